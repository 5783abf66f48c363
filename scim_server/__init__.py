"""The SCIM 2.0 protocol over HTTP: the Falcon app and everything it serves.

``create_app(settings)`` in ``scim_server.app`` builds the WSGI application;
``scim_server.cli`` is the ``scim-server`` command.
"""

import falcon

# Falcon's App is generic in its request and response types; this server uses
# the plain WSGI ones throughout.
App = falcon.App[falcon.Request, falcon.Response]
