"""Fakes only the tests use."""

from __future__ import annotations

from enrichment.fakes import FakeServer, Request, Response


class JsonProvider(FakeServer):
    """The plainest provider: ``{"ok": true}`` on every path — slow, failing or rate
    limited as its latency and fault plan say."""

    name = "json-provider"

    def endpoint(self, request: Request) -> str:
        return "item"

    def handle(self, request: Request) -> Response:
        return Response(200, b'{"ok": true}', "application/json")
