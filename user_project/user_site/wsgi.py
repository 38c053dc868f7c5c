"""WSGI entry point: `gunicorn user_site.wsgi` from `user_project/`."""
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "user_site.settings")
application = get_wsgi_application()
