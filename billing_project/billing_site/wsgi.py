"""WSGI entry point: `gunicorn billing_site.wsgi` from `billing_project/`."""
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "billing_site.settings")
application = get_wsgi_application()
