"""AudioMuse-AI's HTTP API: the ``/api/sync`` manifest and payloads, health, similar tracks.

AudioMuse-AI analyses the Plex library itself and serves the results keyed by Plex rating
key. Requests go through ``enrichment.http.ProviderSession`` (fixed timeouts, retries with
backoff and jitter honouring ``Retry-After``, every wait cut short by a cancel). A 503 means
"busy, retry later" and surfaces as a ``TransientProviderError`` — never as an empty index.
The API token travels in the ``Authorization`` header only; it is never logged or shown.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Self

from django.conf import settings

from enrichment.http import (
    PermanentProviderError,
    ProviderConfigError,
    ProviderSession,
    TransientProviderError,
)
from jobs.cancel import NEVER, CancelToken

if TYPE_CHECKING:
    from collections.abc import Sequence
    from types import TracebackType

logger = logging.getLogger(__name__)

PROVIDER = "AudioMuse-AI"
# The server's cap on ``limit`` for one index page.
INDEX_PAGE_LIMIT = 1000
_URL_HINT = "not configured: set PLAYLISTER_AUDIOMUSE_URL (and PLAYLISTER_AUDIOMUSE_TOKEN)"
_TOKEN_HINT = "the API token was rejected (HTTP {status}): check PLAYLISTER_AUDIOMUSE_TOKEN"  # noqa: S105


@dataclass(frozen=True, slots=True)
class IndexEntry:
    """One line of the index manifest: a track id and its analysis fingerprint."""

    id: str
    fp: str


@dataclass(frozen=True, slots=True)
class IndexPage:
    """One page of ``GET /api/sync?fields=index``."""

    page: int
    entries: tuple[IndexEntry, ...]
    total_tracks: int
    provider_type: str
    has_more: bool
    next_page: int | None


@dataclass(frozen=True, slots=True)
class TrackFeatures:
    """A track's full analysis; score strings already parsed into dicts of floats."""

    id: str
    title: str
    artist: str
    album: str
    tempo: float | None
    key: str
    scale: str
    energy: float | None
    mood_vector: dict[str, float]
    other_features: dict[str, float]
    fp: str


@dataclass(frozen=True, slots=True)
class SimilarTrack:
    """One neighbour from ``/api/similar_tracks`` (smaller distance = more alike)."""

    id: str
    title: str
    artist: str
    distance: float


def parse_scores(value: object) -> dict[str, float]:
    """``"rock:0.54,pop:0.21"`` → ``{"rock": 0.54, "pop": 0.21}``.

    Malformed entries are skipped rather than failing the track: one odd label must not cost
    a whole batch. An object (a future API version) is accepted as is.
    """
    pairs: list[tuple[object, object]] = []
    if isinstance(value, dict):
        pairs.extend(value.items())
    elif isinstance(value, str):
        for item in value.split(","):
            # rpartition: a label may itself contain a colon; the score never does.
            label, sep, score = item.rpartition(":")
            if sep:
                pairs.append((label, score))
    else:
        return {}
    scores: dict[str, float] = {}
    for raw_label, raw_score in pairs:
        number = _float(raw_score)
        name = str(raw_label).strip()
        if name and number is not None:
            scores[name] = number
    return scores


def _float(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _str(value: object) -> str:
    return "" if value is None else str(value).strip()


def _unexpected(what: str) -> PermanentProviderError:
    # A wrong document shape is a version mismatch, not a hiccup: retrying cannot fix it.
    return PermanentProviderError(PROVIDER, f"unexpected response from {what}")


class AudioMuseClient:
    """Calls to one AudioMuse-AI server for one job; use as a context manager."""

    def __init__(self, *, base_url: str, token: str, session: ProviderSession) -> None:
        if not base_url.strip():
            raise ProviderConfigError(PROVIDER, _URL_HINT)
        self.base_url = base_url.strip().rstrip("/")
        self._headers = {"Accept": "application/json"}
        if token:
            self._headers["Authorization"] = f"Bearer {token}"
        self.session = session

    @classmethod
    def from_settings(cls, *, cancel: CancelToken = NEVER) -> Self:
        """A client for ``PLAYLISTER_AUDIOMUSE_URL``/``_TOKEN`` whose waits ``cancel`` ends."""
        url = str(settings.PLAYLISTER_AUDIOMUSE_URL or "")
        if not url.strip():
            raise ProviderConfigError(PROVIDER, _URL_HINT)
        session = ProviderSession(
            provider=PROVIDER,
            timeout=float(settings.PLAYLISTER_HTTP_TIMEOUT),
            max_attempts=int(settings.PLAYLISTER_HTTP_ATTEMPTS),
            cancel=cancel,
        )
        return cls(
            base_url=url, token=str(settings.PLAYLISTER_AUDIOMUSE_TOKEN or ""), session=session
        )

    def __repr__(self) -> str:
        # Spelled out so the token (in ``_headers``) never reaches a log through a repr.
        return f"AudioMuseClient({self.base_url!r})"

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- requests --------------------------------------------------------------------------

    def _get(self, path: str, params: dict[str, str] | None = None) -> Any:
        try:
            return self.session.get_json(
                f"{self.base_url}{path}", params=params, headers=self._headers
            )
        except PermanentProviderError as exc:
            if exc.status in (401, 403):
                raise ProviderConfigError(
                    PROVIDER, _TOKEN_HINT.format(status=exc.status), status=exc.status
                ) from None
            raise
        except TransientProviderError as exc:
            if exc.status != 503:
                raise
            # Say what a 503 means here, and keep the server's Retry-After for the queue.
            raise TransientProviderError(
                PROVIDER,
                "busy or unavailable (HTTP 503); the sync will be retried later",
                status=503,
                retry_after=exc.retry_after,
            ) from None

    def health(self) -> dict[str, Any]:
        """``GET /api/health``."""
        body = self._get("/api/health")
        if not isinstance(body, dict):
            raise _unexpected("/api/health")
        return body

    def index_page(self, page: int = 1, *, limit: int = INDEX_PAGE_LIMIT) -> IndexPage:
        """One page (1-based) of the manifest: ids and fingerprints only."""
        params = {"fields": "index", "page": str(page), "limit": str(min(limit, INDEX_PAGE_LIMIT))}
        body = self._get("/api/sync", params)
        if not isinstance(body, dict) or not isinstance(body.get("tracks"), list):
            raise _unexpected("/api/sync?fields=index")
        entries = []
        for raw in body["tracks"]:
            track_id = _str(raw.get("id")) if isinstance(raw, dict) else ""
            if not track_id:
                # Skipped, not fatal: the caller sees fewer ids than total_tracks and will
                # not delete anything on the strength of this manifest.
                logger.warning("AudioMuse-AI index page %s: an entry without an id", page)
                continue
            entries.append(IndexEntry(id=track_id, fp=_str(raw.get("fp"))))
        total = _float(body.get("total_tracks"))
        next_page = _float(body.get("next_page"))
        return IndexPage(
            page=page,
            entries=tuple(entries),
            total_tracks=int(total) if total is not None else len(entries),
            provider_type=_str(body.get("provider_type")),
            has_more=bool(body.get("has_more")),
            next_page=int(next_page) if next_page is not None else None,
        )

    def fetch(self, ids: Sequence[str]) -> list[TrackFeatures]:
        """Full payloads for ``ids`` (never embeddings); ids the server lacks are absent."""
        if not ids:
            return []
        params = {"ids": ",".join(ids), "include_embeddings": "false"}
        body = self._get("/api/sync", params)
        if not isinstance(body, dict) or not isinstance(body.get("tracks"), list):
            raise _unexpected("/api/sync?ids=…")
        result = []
        for raw in body["tracks"]:
            if not isinstance(raw, dict) or not _str(raw.get("id")):
                logger.warning("AudioMuse-AI payload without an id skipped")
                continue
            result.append(
                TrackFeatures(
                    id=_str(raw.get("id")),
                    title=_str(raw.get("title")),
                    artist=_str(raw.get("artist")),
                    album=_str(raw.get("album")),
                    tempo=_float(raw.get("tempo")),
                    key=_str(raw.get("key")),
                    scale=_str(raw.get("scale")),
                    energy=_float(raw.get("energy")),
                    mood_vector=parse_scores(raw.get("mood_vector")),
                    other_features=parse_scores(raw.get("other_features")),
                    fp=_str(raw.get("fp")),
                )
            )
        return result

    def similar_tracks(self, item_id: str, n: int = 10) -> list[SimilarTrack]:
        """The ``n`` tracks that sound most like ``item_id``, nearest first."""
        body = self._get("/api/similar_tracks", {"item_id": item_id, "n": str(n)})
        if not isinstance(body, list):
            raise _unexpected("/api/similar_tracks")
        result = []
        for raw in body:
            if not isinstance(raw, dict) or not _str(raw.get("item_id")):
                continue
            distance = _float(raw.get("distance"))
            result.append(
                SimilarTrack(
                    id=_str(raw.get("item_id")),
                    title=_str(raw.get("title")),
                    artist=_str(raw.get("author") or raw.get("artist")),
                    distance=distance if distance is not None else math.inf,
                )
            )
        return result
