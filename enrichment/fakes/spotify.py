"""A fake Spotify Web API: client-credentials token and artist search.

``POST /api/token`` stands in for accounts.spotify.com and ``GET /v1/search`` for
api.spotify.com; both live on one base URL. Genres are treated as optional (Spotify
deprecated them): a share of artists has ``"genres": []``, and ``no_genres_field`` of them
(none by default) no ``genres`` field at all.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import random
import re
import secrets
import threading
import time
from typing import TYPE_CHECKING, ClassVar
from urllib.parse import parse_qs, urlencode

from enrichment.fakes.base import FakeServer, fold, json_response

if TYPE_CHECKING:
    from enrichment.fakes.base import Request, Response
    from enrichment.fakes.faults import FaultPlan, RateLimit
    from enrichment.fakes.models import Artist, Library

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_FIELD = re.compile(r'^\s*artist:\s*(?:"([^"]*)"|(\S.*?))\s*$')


def api_error(status: int, message: str, headers: tuple[tuple[str, str], ...] = ()) -> Response:
    """The Web API's error document ``{"error": {"status", "message"}}``."""
    return json_response(status, {"error": {"status": status, "message": message}}, headers)


def _spotify_id(seed: int, rating_key: int) -> str:
    digest = int.from_bytes(hashlib.sha256(f"spotify:{seed}:{rating_key}".encode()).digest()[:17])
    chars = []
    for _ in range(22):
        digest, rest = divmod(digest, 62)
        chars.append(_BASE62[rest])
    return "".join(chars)


class FakeSpotify(FakeServer):
    """Fake Spotify over a library; ``unknown_fraction`` of artists are not in its catalogue.

    ``max_limit`` is the largest ``limit`` search accepts (10, per the 2026 API rules).
    """

    name: ClassVar[str] = "spotify"

    def __init__(
        self,
        library: Library,
        *,
        client_id: str,
        client_secret: str,
        token_ttl: int = 3600,
        max_limit: int = 10,
        unknown_fraction: float = 0.05,
        empty_genres_fraction: float = 0.2,
        no_genres_field: float = 0.0,
        port: int = 0,
        latency: float = 0.0,
        faults: FaultPlan | None = None,
        rate_limit: RateLimit | None = None,
    ) -> None:
        super().__init__(port=port, latency=latency, faults=faults, rate_limit=rate_limit)
        self.library = library
        self.client_id = client_id
        self.client_secret = client_secret
        self.token_ttl = token_ttl
        self.max_limit = max_limit
        self._tokens: dict[str, float] = {}
        self._tokens_lock = threading.Lock()
        self._catalogue: list[tuple[str, dict[str, object]]] = []
        for artist in library.artists:
            entry = self._entry(artist, unknown_fraction, empty_genres_fraction)
            if entry is None:
                continue
            # A stream of its own: the rest of the catalogue stays what it was.
            fields = f"spotify-fields:{library.seed}:{artist.rating_key}"
            if no_genres_field and random.Random(fields).random() < no_genres_field:
                del entry["genres"]
            self._catalogue.append((fold(artist.title), entry))

    # -- catalogue -------------------------------------------------------------------------

    def _entry(
        self, artist: Artist, unknown_fraction: float, empty_genres: float
    ) -> dict[str, object] | None:
        rng = random.Random(f"spotify:{self.library.seed}:{artist.rating_key}")
        if rng.random() < unknown_fraction:
            return None
        genres = (
            []
            if rng.random() < empty_genres
            else [g.lower() for g in artist.genres + artist.styles]
        )
        spotify_id = _spotify_id(self.library.seed, artist.rating_key)
        popularity = min(100, int(artist.view_count**0.5 * 4) + rng.randint(0, 40))
        return {
            "external_urls": {"spotify": f"https://open.spotify.com/artist/{spotify_id}"},
            "genres": genres,
            "href": f"https://api.spotify.com/v1/artists/{spotify_id}",
            "id": spotify_id,
            "images": [],
            "name": artist.title,
            "popularity": popularity,
            "type": "artist",
            "uri": f"spotify:artist:{spotify_id}",
        }

    def artist_entry(self, artist: Artist) -> dict[str, object] | None:
        """The search-result object Spotify holds for a library artist (``None`` = absent)."""
        name = fold(artist.title)
        return next((e for n, e in self._catalogue if n == name), None)

    def search(self, query: str) -> list[dict[str, object]]:
        """All artists a query matches: exact name first, then partial word matches."""
        field = _FIELD.match(query)
        wanted = fold((field.group(1) or field.group(2)) if field else query)
        words = [w for w in wanted.split() if len(w) >= 3 and w != "the"]
        exact = [e for n, e in self._catalogue if n == wanted]
        partial = [
            e for n, e in self._catalogue if n != wanted and any(w in n.split() for w in words)
        ]
        partial.sort(key=lambda e: -int(str(e["popularity"])))
        return exact + partial

    # -- tokens ----------------------------------------------------------------------------

    def expire_tokens(self) -> None:
        """Make every issued token expired (tests of the refresh path need no sleeping)."""
        with self._tokens_lock:
            self._tokens = dict.fromkeys(self._tokens, 0.0)

    def _issue(self) -> str:
        token = secrets.token_urlsafe(32)
        with self._tokens_lock:
            self._tokens[token] = time.monotonic() + self.token_ttl
        return token

    def _token_state(self, request: Request) -> str | None:
        """``None`` if the bearer token is valid, else the error message Spotify sends."""
        auth = request.header("Authorization") or ""
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return "No token provided"
        with self._tokens_lock:
            expiry = self._tokens.get(token.strip())
        if expiry is None:
            return "Invalid access token"
        if expiry <= time.monotonic():
            return "The access token expired"
        return None

    # -- HTTP ------------------------------------------------------------------------------

    def endpoint(self, request: Request) -> str:
        """``token``, ``search`` or ``unknown``."""
        if request.path == "/api/token":
            return "token"
        if request.path == "/v1/search":
            return "search"
        return "unknown"

    def handle(self, request: Request) -> Response:
        """Route to the token or search handler."""
        if request.path == "/api/token" and request.method == "POST":
            return self._token(request)
        if request.path == "/v1/search" and request.method == "GET":
            return self._search(request)
        return api_error(404, "Service not found")

    def _token(self, request: Request) -> Response:
        form = {k: v[0] for k, v in parse_qs(request.body.decode("utf-8", "replace")).items()}
        client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        scheme, _, encoded = (request.header("Authorization") or "").partition(" ")
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                decoded = ""
            client_id, _, secret = decoded.partition(":")
        if form.get("grant_type") != "client_credentials":
            return json_response(
                400,
                {
                    "error": "unsupported_grant_type",
                    "error_description": "grant_type parameter is missing",
                },
            )
        good_id = hmac.compare_digest(client_id.encode(), self.client_id.encode())
        good_secret = hmac.compare_digest(secret.encode(), self.client_secret.encode())
        if not (good_id and good_secret):
            return json_response(
                400, {"error": "invalid_client", "error_description": "Invalid client"}
            )
        payload = {
            "access_token": self._issue(),
            "token_type": "Bearer",
            "expires_in": self.token_ttl,
        }
        return json_response(200, payload)

    def _search(self, request: Request) -> Response:
        problem = self._token_state(request)
        if problem is not None:
            return api_error(401, problem)
        query = request.param("q")
        if not query:
            return api_error(400, "No search query")
        types = (request.param("type") or "").split(",")
        if not types or types == [""]:
            return api_error(400, "Missing parameter type")
        limit_raw, offset_raw = (
            request.param("limit", "5") or "5",
            request.param("offset", "0") or "0",
        )
        if not limit_raw.isdigit() or not 0 <= int(limit_raw) <= self.max_limit:
            return api_error(400, "Invalid limit")
        if not offset_raw.isdigit() or int(offset_raw) > 1000:
            return api_error(400, "Invalid offset")
        limit, offset = int(limit_raw), int(offset_raw)
        payload: dict[str, object] = {}
        if "artist" in types:
            found = self.search(query)
            base = "https://api.spotify.com/v1/search"

            def link(at: int) -> str:
                params = {"query": query, "type": "artist", "offset": at, "limit": limit}
                return f"{base}?{urlencode(params)}"

            payload["artists"] = {
                "href": link(offset),
                "items": found[offset : offset + limit],
                "limit": limit,
                "next": link(offset + limit) if offset + limit < len(found) else None,
                "offset": offset,
                "previous": link(max(0, offset - limit)) if offset > 0 else None,
                "total": len(found),
            }
        return json_response(200, payload)

    def too_many_requests(self, request: Request, retry_after: int) -> Response:
        """429 with Retry-After, the Web API's rolling-window answer."""
        return api_error(429, "API rate limit exceeded", (("Retry-After", str(retry_after)),))

    def server_error(self, request: Request) -> Response:
        """500 in the Web API's error shape."""
        return api_error(500, "Server error.")
