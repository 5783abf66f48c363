"""The framework floor: the least work a Falcon app can do per request.

``bench/run.py`` serves this app with the SCIM server's own gunicorn command
line, so its throughput is what gunicorn, Falcon and the loopback network
cost before any SCIM work is done. The SCIM numbers are read as a fraction
of it.
"""

from __future__ import annotations

import falcon

# Falcon's App is generic in its request and response types; this app uses
# the plain WSGI ones, as the SCIM server does.
App = falcon.App[falcon.Request, falcon.Response]


class Hello:
    """Answer GET with a tiny JSON body and POST with 201."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {"hello": "world"}

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        # Parse the body as the SCIM server must, so that the floor for POST
        # includes reading and decoding the same request.
        req.get_media()
        resp.status = falcon.HTTP_201
        resp.media = {"hello": "world"}


def create_app() -> App:
    app = App()
    app.add_route("/", Hello())
    return app


app = create_app()
