import os

from django.core.wsgi import get_wsgi_application

from personalpod.env import exit_on_config_error

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "personalpod.settings.local")

# Status 3 is gunicorn's "worker failed to boot": it stops instead of restarting forever.
with exit_on_config_error(status=3):
    application = get_wsgi_application()
