"""The WSGI entry point for gunicorn: settings come from the environment."""

from scim_server.app import create_app
from scim_server.settings import Settings

application = create_app(Settings.from_env())
