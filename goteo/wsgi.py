"""WSGI entry point of the bundled site."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "goteo.settings")
application = get_wsgi_application()
