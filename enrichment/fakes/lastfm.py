"""A fake Last.fm API 2.0 (``artist.getTopTags`` and ``album.getTopTags``, JSON only).

Tags derive deterministically from the library's genres and styles (lower-cased, as Last.fm
users write them) plus the noise a real tag cloud has: "seen live", "favorite", "albums i own"
and other low-count tags (count <= 50). Real quirks kept on purpose: a lone tag is a bare
object instead of a one-element list, and most errors arrive with HTTP 200.
"""

from __future__ import annotations

import hmac
import random
from typing import TYPE_CHECKING, ClassVar
from urllib.parse import quote_plus

from enrichment.fakes.base import FakeServer, fold, json_response
from enrichment.fakes.vocab import LASTFM_NOISE_TAGS

if TYPE_CHECKING:
    from collections.abc import Collection

    from enrichment.fakes.base import Request, Response
    from enrichment.fakes.faults import FaultPlan, RateLimit
    from enrichment.fakes.models import Album, Artist, Library

Tags = list[tuple[str, int]]

ERRORS = {
    3: "Invalid Method - No method with that name in this package",
    6: "Invalid parameters - Your request is missing a required parameter",
    8: "Operation failed - Most likely the backend service failed. Please try again.",
    10: "Invalid API key - You must be granted a valid key by last.fm",
    26: "Suspended API key - Access for your account has been suspended, please contact Last.fm",
    29: "Rate Limit Exceeded - Your IP has made too many requests in a short period",
}
ARTIST_NOT_FOUND = "The artist you supplied could not be found"
ALBUM_NOT_FOUND = "Album not found"


def error_body(code: int, message: str | None = None) -> dict[str, object]:
    """Last.fm's error document."""
    return {"error": code, "message": message or ERRORS[code], "links": []}


def _autocorrected(name: str) -> str:
    folded = fold(name).replace(" & ", " and ")
    return folded.removeprefix("the ")


class FakeLastFm(FakeServer):
    """Fake ``/2.0/`` endpoint over a library.

    ``unknown_fraction`` of artists (and albums) are deterministically unknown to Last.fm.
    ``invalid_key_status`` (403) and ``rate_limit_status`` (429) can be set to 200 to get the
    HTTP-200 error form; ``not_found_status`` is 200 as Last.fm usually sends it.
    """

    name: ClassVar[str] = "lastfm"

    def __init__(
        self,
        library: Library,
        *,
        api_key: str,
        suspended_api_keys: Collection[str] = (),
        unknown_fraction: float = 0.05,
        invalid_key_status: int = 403,
        rate_limit_status: int = 429,
        not_found_status: int = 200,
        port: int = 0,
        latency: float = 0.0,
        faults: FaultPlan | None = None,
        rate_limit: RateLimit | None = None,
    ) -> None:
        super().__init__(port=port, latency=latency, faults=faults, rate_limit=rate_limit)
        self.library = library
        self.api_key = api_key
        self._suspended = frozenset(suspended_api_keys)
        self._unknown_fraction = unknown_fraction
        self.invalid_key_status = invalid_key_status
        self.rate_limit_status = rate_limit_status
        self.not_found_status = not_found_status
        # Last.fm has one artist per name: two library artists of one name (the generator
        # makes a few) both resolve to the first.
        self._exact: dict[str, Artist] = {}
        self._corrected: dict[str, Artist] = {}
        for artist in library.artists:
            self._exact.setdefault(fold(artist.title), artist)
            self._corrected.setdefault(_autocorrected(artist.title), artist)

    # -- deterministic data (also handy for test expectations) ------------------------------

    def _rng(self, kind: str, rating_key: int) -> random.Random:
        return random.Random(f"lastfm:{self.library.seed}:{kind}:{rating_key}")

    def is_known(self, item: Artist | Album) -> bool:
        """Whether Last.fm "knows" this artist or album."""
        kind = "album" if hasattr(item, "artist_key") else "artist"
        return self._rng(kind, item.rating_key).random() >= self._unknown_fraction

    def artist_tags(self, artist: Artist) -> Tags | None:
        """The artist's (name, count) top tags by falling count, or ``None`` if unknown."""
        if not self.is_known(artist):
            return None
        return self._tags(self._rng("artist-tags", artist.rating_key), artist.genres, artist.styles)

    def album_tags(self, album: Album) -> Tags | None:
        """The album's (name, count) top tags, or ``None`` if unknown."""
        if not self.is_known(album):
            return None
        return self._tags(self._rng("album-tags", album.rating_key), album.genres, album.styles)

    @staticmethod
    def _tags(rng: random.Random, genres: tuple[str, ...], styles: tuple[str, ...]) -> Tags:
        shape = rng.random()
        if shape < 0.04 or not genres:
            return []
        if shape < 0.12:
            return [(genres[0].lower(), 100)]
        tags: dict[str, int] = {genres[0].lower(): 100}
        for genre in genres[1:]:
            tags.setdefault(genre.lower(), rng.randint(51, 95))
        for style in styles:
            tags.setdefault(style.lower(), rng.randint(20, 75))
        for noise in rng.sample(LASTFM_NOISE_TAGS, rng.randint(1, 4)):
            tags.setdefault(noise, rng.randint(1, 50))
        return sorted(tags.items(), key=lambda kv: (-kv[1], kv[0]))

    def find_artist(self, name: str, *, autocorrect: bool) -> Artist | None:
        """The library artist Last.fm would resolve ``name`` to."""
        found = self._exact.get(fold(name))
        if found is None and autocorrect:
            found = self._corrected.get(_autocorrected(name))
        return found

    # -- HTTP ------------------------------------------------------------------------------

    def endpoint(self, request: Request) -> str:
        """The ``method`` parameter (e.g. ``artist.getTopTags``) or ``unknown``."""
        method = request.param("method") or ""
        return method if method.lower() in {"artist.gettoptags", "album.gettoptags"} else "unknown"

    def handle(self, request: Request) -> Response:
        """Answer ``GET /2.0/?method=...&api_key=...&format=json``."""
        if request.path.rstrip("/") != "/2.0":
            return json_response(404, error_body(3))
        key = request.param("api_key") or ""
        if key in self._suspended:
            return json_response(self.invalid_key_status, error_body(26))
        if not hmac.compare_digest(key.encode(), self.api_key.encode()):
            return json_response(self.invalid_key_status, error_body(10))
        method = (request.param("method") or "").lower()
        artist_name = request.param("artist") or ""
        if method not in {"artist.gettoptags", "album.gettoptags"}:
            return json_response(400, error_body(3))
        if not artist_name.strip():
            return json_response(400, error_body(6))
        artist = self.find_artist(artist_name, autocorrect=request.param("autocorrect") == "1")
        if artist is None or not self.is_known(artist):
            return json_response(self.not_found_status, error_body(6, ARTIST_NOT_FOUND))
        if method == "artist.gettoptags":
            tags = self.artist_tags(artist) or []
            return self._toptags(tags, {"artist": artist.title})
        album_title = (request.param("album") or "").strip()
        if not album_title:
            return json_response(400, error_body(6))
        album = next(
            (
                a
                for a in self.library.albums_of(artist.rating_key)
                if fold(a.title) == fold(album_title)
            ),
            None,
        )
        tags_or_none = self.album_tags(album) if album is not None else None
        if album is None or tags_or_none is None:
            return json_response(self.not_found_status, error_body(6, ALBUM_NOT_FOUND))
        return self._toptags(tags_or_none, {"artist": artist.title, "album": album.title})

    @staticmethod
    def _toptags(tags: Tags, attr: dict[str, str]) -> Response:
        entries = [
            {"count": count, "name": name, "url": f"https://www.last.fm/tag/{quote_plus(name)}"}
            for name, count in tags
        ]
        # Last.fm's XML-to-JSON conversion turns a one-element list into a bare object.
        tag: object = entries[0] if len(entries) == 1 else entries
        return json_response(200, {"toptags": {"tag": tag, "@attr": attr}})

    def too_many_requests(self, request: Request, retry_after: int) -> Response:
        """Error 29, with HTTP 429 (or 200 if ``rate_limit_status`` says so)."""
        headers = (("Retry-After", str(retry_after)),) if self.rate_limit_status == 429 else ()
        return json_response(self.rate_limit_status, error_body(29), headers)

    def server_error(self, request: Request) -> Response:
        """Error 8 with HTTP 500."""
        return json_response(500, error_body(8))
