"""WSGI entry point: `gunicorn product_site.wsgi` from `product_project/`."""
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "product_site.settings")
application = get_wsgi_application()
