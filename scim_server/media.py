"""JSON bodies for SCIM's media type and plain JSON, through orjson."""

from __future__ import annotations

from typing import Any

import falcon
import falcon.media
import orjson

from scim_server import App

SCIM_JSON = "application/scim+json"
# The legacy Databricks CLI labels its JSON text/json.
TEXT_JSON = "text/json"
JSON_TYPES = frozenset({SCIM_JSON, falcon.MEDIA_JSON, TEXT_JSON})


class JSONHandler(falcon.media.BaseHandler):
    """One orjson-backed handler for ``application/json`` and SCIM's type.

    orjson serialises a typical resource several times faster than the
    standard library, which shows in every response.
    """

    exhaust_stream = True

    def deserialize(
        self, stream: Any, content_type: str | None, content_length: int | None
    ) -> Any:
        data = stream.read()
        if not data:
            raise falcon.MediaNotFoundError("JSON")
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError as ex:
            raise falcon.MediaMalformedError("JSON") from ex

    def serialize(self, media: Any, content_type: str | None) -> bytes:
        return orjson.dumps(media)


def install(app: App) -> None:
    handler = JSONHandler()
    handlers = {SCIM_JSON: handler, falcon.MEDIA_JSON: handler}
    app.req_options.media_handlers.update(handlers)
    app.req_options.media_handlers[TEXT_JSON] = handler
    app.resp_options.media_handlers.update(handlers)
    # A body sent without a Content-Type is read as JSON: some SCIM clients
    # omit the header, and JSON is the only thing a SCIM body can be.
    app.req_options.default_media_type = SCIM_JSON
    app.resp_options.default_media_type = SCIM_JSON


def json_body(req: falcon.Request) -> Any:
    """The request's JSON body; 415 for a body of another media type.

    Falcon would read a form-encoded body as a form, and the SCIM error
    that followed would talk about missing attributes instead of the type.
    """
    media_type = (req.content_type or SCIM_JSON).split(";", 1)[0].strip().lower()
    if media_type not in JSON_TYPES:
        raise falcon.HTTPUnsupportedMediaType(
            description=f"send {SCIM_JSON} or {falcon.MEDIA_JSON}, not {media_type}"
        )
    return req.get_media()
