"""``GET /metrics``: the Prometheus text format (``jobs.metrics``).

Readable with ``Authorization: Bearer <PLAYLISTER_METRICS_TOKEN>`` (compared in constant
time; a token that is set but empty never matches) or by a logged-in user; anyone else gets
a 401 JSON answer. A scrape with the token reads no session.
"""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

from jobs.metrics import JobsCollector
from jobs.views.access import json_error

_registry = CollectorRegistry(auto_describe=False)
_registry.register(JobsCollector())


def _bearer_ok(request: HttpRequest) -> bool:
    expected = str(settings.PLAYLISTER_METRICS_TOKEN or "")
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if not expected or scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), expected.encode())


def metrics(request: HttpRequest) -> HttpResponse:
    if request.method not in ("GET", "HEAD"):
        response = json_error(405, f"Method {request.method} not allowed; use GET.")
        response["Allow"] = "GET, HEAD"
        return response
    if not (_bearer_ok(request) or request.user.is_authenticated):
        response = json_error(
            401,
            "Authentication required: send 'Authorization: Bearer <PLAYLISTER_METRICS_TOKEN>' "
            "or log in.",
        )
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(generate_latest(_registry), content_type=CONTENT_TYPE_LATEST)
