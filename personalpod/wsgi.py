import os

from django.core.wsgi import get_wsgi_application

from personalpod.env import exit_on_config_error

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "personalpod.settings.local")

with exit_on_config_error():
    application = get_wsgi_application()
