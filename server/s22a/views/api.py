"""`/openapi.json`: the OpenAPI 3.1 document of the HTTP interface (see `s22a.openapi`)."""

from __future__ import annotations

import json

from flask import Blueprint, Response, request

from s22a.web import openapi

bp = Blueprint("api", __name__)


@bp.get("/openapi.json")
def openapi_document() -> Response:
    """The OpenAPI document, its server set to this site's root."""
    body = json.dumps(openapi.document(request.script_root or "/"), indent=2, ensure_ascii=False)
    response = Response(body, content_type="application/json; charset=utf-8")
    response.access_control_allow_origin = "*"
    response.cache_control.public = True
    response.cache_control.max_age = 300
    return response
