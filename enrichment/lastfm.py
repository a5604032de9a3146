"""Last.fm's ``artist.getTopTags`` and ``album.getTopTags`` over its JSON API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from enrichment.http import (
    PermanentProviderError,
    ProviderConfigError,
    ProviderSession,
    TransientProviderError,
)

PROVIDER = "Last.fm"

# https://www.last.fm/api/errorcodes — which of them may pass, which name our config.
_TRANSIENT = {8, 11, 16, 29}
_BAD_KEY = {10, 26}
_NOT_FOUND = 6


@dataclass(frozen=True)
class Tag:
    name: str
    count: int


class LastFmClient:
    """Top tags of artists and albums; ``None`` when Last.fm does not know the item."""

    def __init__(self, *, url: str, api_key: str, session: ProviderSession) -> None:
        if not api_key:
            raise ProviderConfigError(PROVIDER, "no API key: set PLAYLISTER_LASTFM_API_KEY")
        self.url = url
        self._api_key = api_key
        self.session = session

    def artist_top_tags(self, artist: str) -> list[Tag] | None:
        return self._top_tags({"method": "artist.getTopTags", "artist": artist})

    def album_top_tags(self, artist: str, album: str) -> list[Tag] | None:
        return self._top_tags({"method": "album.getTopTags", "artist": artist, "album": album})

    def _top_tags(self, params: dict[str, str]) -> list[Tag] | None:
        query = {**params, "api_key": self._api_key, "format": "json", "autocorrect": "1"}
        body = self.session.get_json(self.url, params=query, check=_check)
        if body.get("error") == _NOT_FOUND:
            return None
        return _parse_tags(body)


def _check(body: Any, status: int) -> bool:
    """Last.fm reports errors in the body, often with HTTP 200: classify them here, inside
    the retry loop, so that a rate-limit error 29 is retried like a 429."""
    if not isinstance(body, dict):
        raise TransientProviderError(PROVIDER, "malformed response body", status=status)
    code = body.get("error")
    if code is None:
        if "toptags" not in body:
            raise TransientProviderError(PROVIDER, "malformed response body", status=status)
        return False
    message = str(body.get("message", ""))[:200]
    if code in _BAD_KEY:
        raise ProviderConfigError(
            PROVIDER, f"the API key was rejected (error {code}): check PLAYLISTER_LASTFM_API_KEY"
        )
    if code in _TRANSIENT:
        raise TransientProviderError(PROVIDER, f"error {code}: {message}", status=status)
    if code == _NOT_FOUND:
        return True  # an answer: Last.fm does not know this item
    raise PermanentProviderError(PROVIDER, f"error {code}: {message}", status=status)


def _parse_tags(body: dict[str, Any]) -> list[Tag]:
    toptags = body.get("toptags")
    raw = toptags.get("tag", []) if isinstance(toptags, dict) else []
    if isinstance(raw, dict):  # a single tag comes as a bare object
        raw = [raw]
    elif not isinstance(raw, list):  # null or junk: no tags, not a crash
        raw = []
    tags = []
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"]:
            continue
        try:
            count = int(item.get("count", 0))
        except (TypeError, ValueError, OverflowError):
            count = 0
        tags.append(Tag(name=item["name"], count=count))
    return tags
