"""A fake AudioMuse-AI server: ``/api/sync`` (index manifest and full payloads), health, similar.

AudioMuse-AI analyses a media server's tracks and serves the results keyed by the media
server's ids (Plex rating keys here). Features derive deterministically from the track id, a
seed and a per-track revision, so tests can predict every value; ``change_track`` bumps a
revision (new fingerprint, new features) and ``remove_track`` drops a track, as a re-analysis or
a deleted file would. Real quirks kept on purpose: ``mood_vector`` and ``other_features`` are
comma-separated ``label:score`` strings, not objects, and full payloads carry a large
embedding unless the client asks ``include_embeddings=false``.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import random
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from enrichment.fakes.base import FakeServer, json_response
from enrichment.fakes.models import Library

if TYPE_CHECKING:
    from collections.abc import Collection, Iterable

    from enrichment.fakes.base import Request, Response
    from enrichment.fakes.faults import FaultPlan, RateLimit

PROVIDER_TYPE = "plex"
EMBEDDING_SIZE = 200
KEYS = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
SCALES = ("major", "minor")
# AudioMuse-AI's mood vector is a genre-like label cloud from its classifier.
MOOD_LABELS = (
    "rock", "pop", "alternative", "indie", "electronic", "dance", "hip-hop", "jazz", "soul",
    "blues", "folk", "country", "metal", "punk", "ambient", "classical", "instrumental",
    "chillout", "experimental", "acoustic", "house", "funk", "rnb", "singer-songwriter",
)  # fmt: skip
OTHER_FEATURES = ("danceable", "aggressive", "happy", "party", "relaxed", "sad")


@dataclass(frozen=True, slots=True)
class AnalyzedTrack:
    """A track AudioMuse-AI has analysed: its media-server id and the tags it read."""

    id: str
    title: str
    artist: str
    album: str
    genres: tuple[str, ...] = ()


def tracks_of(library: Library) -> list[AnalyzedTrack]:
    """Every track of a generated library, as AudioMuse-AI would have analysed it."""
    result = []
    for track in library.tracks:
        album = library.album(track.album_key)
        result.append(
            AnalyzedTrack(
                id=str(track.rating_key),
                title=track.title,
                artist=library.artist(track.artist_key).title,
                album=album.title,
                genres=track.genres or album.genres,
            )
        )
    return result


def format_scores(scores: dict[str, float]) -> str:
    """``{"rock": 0.54}`` → ``"rock:0.54"``: the wire form of mood_vector/other_features."""
    return ",".join(f"{label}:{score:.4f}" for label, score in scores.items())


class FakeAudioMuse(FakeServer):
    """Fake AudioMuse-AI over a library (or any analysed tracks), with Bearer-token auth.

    Endpoints (``endpoint()`` names in brackets, for counters and fault filters):
    ``GET /api/health`` [health], ``GET /api/sync?fields=index&page=N&limit=L`` [sync-index],
    ``GET /api/sync?ids=a,b`` or ``?page=N`` without ``fields`` [sync-full],
    ``GET /api/similar_tracks?item_id=&n=`` [similar]. Pages start at 1; ``limit`` is capped
    at ``max_limit`` (1000). ``fail()``/``unavailable`` make it answer 503 (AudioMuse-AI's
    "busy, retry later"), optionally with ``Retry-After``.
    """

    name: ClassVar[str] = "audiomuse"

    def __init__(
        self,
        tracks: Library | Iterable[AnalyzedTrack],
        *,
        token: str,
        seed: int | None = None,
        unavailable: bool = False,
        retry_after: int | None = None,
        max_limit: int = 1000,
        default_limit: int = 100,
        port: int = 0,
        latency: float = 0.0,
        faults: FaultPlan | None = None,
        rate_limit: RateLimit | None = None,
    ) -> None:
        super().__init__(port=port, latency=latency, faults=faults, rate_limit=rate_limit)
        if isinstance(tracks, Library):
            self.seed = tracks.seed if seed is None else seed
            analysed = tracks_of(tracks)
        else:
            self.seed = seed or 0
            analysed = list(tracks)
        self.token = token
        self.max_limit = max_limit
        self.default_limit = default_limit
        self._lock = threading.Lock()
        # Insertion-ordered: the index lists tracks in the order they were analysed.
        self._tracks: dict[str, tuple[AnalyzedTrack, int]] = {t.id: (t, 0) for t in analysed}
        self._fail_after = 0
        self._fail_remaining: int | None = 0
        self._fail_endpoints: frozenset[str] | None = None
        self._retry_after = retry_after
        self._reset_own_counters()
        if unavailable:
            self.fail(None, retry_after=retry_after)

    # -- library mutations (what a re-analysis or a deleted file does) ----------------------

    def ids(self) -> list[str]:
        """Every track id in index order."""
        with self._lock:
            return list(self._tracks)

    def change_track(self, track_id: str | int) -> str:
        """Re-analyse a track: new features and a new fingerprint (returned)."""
        key = str(track_id)
        with self._lock:
            track, revision = self._tracks[key]
            self._tracks[key] = (track, revision + 1)
        return self.fingerprint(key)

    def remove_track(self, track_id: str | int) -> None:
        """Forget a track (KeyError if unknown)."""
        with self._lock:
            del self._tracks[str(track_id)]

    def add_track(self, track: AnalyzedTrack) -> None:
        """Analyse a new track; it goes to the end of the index."""
        with self._lock:
            self._tracks[track.id] = (track, 0)

    # -- deterministic data (also handy for test expectations) ------------------------------

    def fingerprint(self, track_id: str | int) -> str:
        """The track's current fingerprint (stable until ``change_track``)."""
        key = str(track_id)
        with self._lock:
            _, revision = self._tracks[key]
        return self._fp(key, revision)

    def features(self, track_id: str | int) -> dict[str, object]:
        """The full payload the server sends for a track, without the embedding."""
        key = str(track_id)
        with self._lock:
            track, revision = self._tracks[key]
        return self._payload(track, revision, embeddings=False)

    def _fp(self, key: str, revision: int) -> str:
        digest = hashlib.sha256(f"audiomuse:{self.seed}:{key}:{revision}".encode())
        return digest.hexdigest()[:40]

    def _rng(self, key: str, revision: int, kind: str) -> random.Random:
        return random.Random(f"audiomuse:{self.seed}:{key}:{revision}:{kind}")

    def _moods(self, track: AnalyzedTrack, revision: int) -> dict[str, float]:
        rng = self._rng(track.id, revision, "mood")
        labels = [g.lower() for g in track.genres]
        labels += [m for m in rng.sample(MOOD_LABELS, 6) if m not in labels]
        scores = {label: round(rng.uniform(0.01, 0.3), 4) for label in labels[:5]}
        for i, genre in enumerate(track.genres[:2]):
            # The file's own genre is what the classifier hears most.
            scores[genre.lower()] = round(rng.uniform(0.45, 0.7) / (i + 1), 4)
        return dict(sorted(scores.items(), key=lambda kv: (-kv[1], kv[0])))

    def _payload(
        self, track: AnalyzedTrack, revision: int, *, embeddings: bool
    ) -> dict[str, object]:
        rng = self._rng(track.id, revision, "features")
        other = {name: round(rng.random(), 4) for name in OTHER_FEATURES}
        payload: dict[str, object] = {
            "id": track.id,
            "title": track.title,
            "artist": track.artist,
            "album": track.album,
            "tempo": round(rng.uniform(60.0, 180.0), 2),
            "key": rng.choice(KEYS),
            "scale": rng.choice(SCALES),
            "mood_vector": format_scores(self._moods(track, revision)),
            "energy": round(rng.uniform(0.01, 0.3), 4),
            "other_features": format_scores(other),
            "fp": self._fp(track.id, revision),
        }
        if embeddings:
            emb = self._rng(track.id, revision, "embedding")
            payload["embedding"] = [round(emb.uniform(-1, 1), 6) for _ in range(EMBEDDING_SIZE)]
        return payload

    # -- 503s ------------------------------------------------------------------------------

    def fail(
        self,
        times: int | None = None,
        *,
        after: int = 0,
        endpoints: Collection[str] | None = None,
        retry_after: int | None = None,
    ) -> None:
        """Answer 503 to the next ``times`` requests (``None``: until ``recover()``).

        ``after`` matching requests are still served first (a failure midway through paging);
        ``endpoints`` limits it to those endpoint names; ``retry_after`` adds the header.
        """
        with self._lock:
            self._fail_after = after
            self._fail_remaining = times
            self._fail_endpoints = frozenset(endpoints) if endpoints is not None else None
            self._retry_after = retry_after

    def recover(self) -> None:
        """Stop answering 503."""
        self.fail(0)

    @property
    def unavailable(self) -> bool:
        """True while every request gets a 503."""
        with self._lock:
            return (
                self._fail_remaining is None
                and self._fail_after == 0
                and self._fail_endpoints is None
            )

    @unavailable.setter
    def unavailable(self, value: bool) -> None:
        if value:
            self.fail(None, retry_after=self._retry_after)
        else:
            self.recover()

    def _draw_503(self, endpoint: str) -> Response | None:
        with self._lock:
            if self._fail_remaining == 0:
                return None
            if self._fail_endpoints is not None and endpoint not in self._fail_endpoints:
                return None
            if self._fail_after > 0:
                self._fail_after -= 1
                return None
            if self._fail_remaining is not None:
                self._fail_remaining -= 1
            retry_after = self._retry_after
            self.unavailable_answers += 1
        headers = (("Retry-After", str(retry_after)),) if retry_after is not None else ()
        body = {"error": "Service Unavailable", "message": "analysis in progress, retry later"}
        return json_response(503, body, headers)

    # -- counters --------------------------------------------------------------------------

    def _reset_own_counters(self) -> None:
        self.index_requests = 0
        self.full_payload_requests = 0
        self.unavailable_answers = 0
        self.embeddings_sent = 0
        self._fetched: list[str] = []

    def reset_counters(self) -> None:
        """Forget recorded requests and the AudioMuse-specific counters."""
        super().reset_counters()
        with self._lock:
            self._reset_own_counters()

    @property
    def ids_fetched(self) -> int:
        """Tracks sent in full payloads since the last reset."""
        with self._lock:
            return len(self._fetched)

    def fetched_ids(self) -> list[str]:
        """The ids sent in full payloads since the last reset, in order."""
        with self._lock:
            return list(self._fetched)

    # -- HTTP ------------------------------------------------------------------------------

    def endpoint(self, request: Request) -> str:
        """``health``, ``sync-index``, ``sync-full``, ``similar`` or ``unknown``."""
        path = request.path.rstrip("/")
        if path == "/api/health":
            return "health"
        if path == "/api/sync":
            return "sync-index" if request.param("fields") == "index" else "sync-full"
        if path == "/api/similar_tracks":
            return "similar"
        return "unknown"

    def handle(self, request: Request) -> Response:
        """503 when told, then auth, then route."""
        endpoint = self.endpoint(request)
        if endpoint == "unknown":
            return json_response(404, {"error": "Not Found"})
        unavailable = self._draw_503(endpoint)
        if unavailable is not None:
            return unavailable
        if request.method not in {"GET", "HEAD"}:
            return json_response(405, {"error": "Method Not Allowed"})
        if not self._authorised(request):
            return json_response(401, {"error": "Unauthorized"}, (("WWW-Authenticate", "Bearer"),))
        if endpoint == "health":
            return json_response(200, {"status": "ok", "provider_type": PROVIDER_TYPE})
        try:
            if endpoint == "similar":
                return self._similar(request)
            return self._sync(request, index_only=endpoint == "sync-index")
        except ValueError as exc:
            return json_response(400, {"error": str(exc)})

    def _authorised(self, request: Request) -> bool:
        scheme, _, given = (request.header("Authorization") or "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(
            given.strip().encode(), self.token.encode()
        )

    @staticmethod
    def _int(request: Request, name: str, default: int) -> int:
        raw = request.param(name)
        if raw is None or raw == "":
            return default
        try:
            return int(raw)
        except ValueError:
            raise ValueError(f"{name} must be an integer") from None

    def _sync(self, request: Request, *, index_only: bool) -> Response:
        embeddings = (request.param("include_embeddings") or "true").lower() != "false"
        ids_param = request.param("ids")
        if ids_param is not None and not index_only:
            wanted = [i.strip() for i in ids_param.split(",") if i.strip()]
            with self._lock:
                # Unknown ids are left out, as AudioMuse-AI does: no error, no placeholder.
                found = [self._tracks[i] for i in dict.fromkeys(wanted) if i in self._tracks]
            return self._full(found, embeddings, {})
        page = self._int(request, "page", 1)
        limit = min(self._int(request, "limit", self.default_limit), self.max_limit)
        if page < 1 or limit < 1:
            raise ValueError("page and limit must be >= 1")
        with self._lock:
            entries = list(self._tracks.values())
            if index_only:
                self.index_requests += 1
        total = len(entries)
        chunk = entries[(page - 1) * limit : page * limit]
        has_more = page * limit < total
        meta: dict[str, object] = {
            "total_tracks": total,
            "provider_type": PROVIDER_TYPE,
            "page": page,
            "limit": limit,
            "has_more": has_more,
            "next_page": page + 1 if has_more else None,
        }
        if index_only:
            tracks = [{"id": t.id, "fp": self._fp(t.id, rev)} for t, rev in chunk]
            return json_response(200, {"tracks": tracks, **meta})
        return self._full(chunk, embeddings, meta)

    def _full(
        self,
        found: list[tuple[AnalyzedTrack, int]],
        embeddings: bool,
        meta: dict[str, object],
    ) -> Response:
        tracks = [self._payload(t, rev, embeddings=embeddings) for t, rev in found]
        with self._lock:
            self.full_payload_requests += 1
            self._fetched.extend(t.id for t, _ in found)
            if embeddings:
                self.embeddings_sent += len(found)
        return json_response(200, {"tracks": tracks, "provider_type": PROVIDER_TYPE, **meta})

    def _similar(self, request: Request) -> Response:
        item_id = (request.param("item_id") or "").strip()
        n = self._int(request, "n", 10)
        if not item_id or n < 1:
            raise ValueError("item_id is required and n must be >= 1")
        with self._lock:
            entries = list(self._tracks.values())
            origin = self._tracks.get(item_id)
        if origin is None:
            return json_response(404, {"error": f"track {item_id} not found"})
        centre = self._moods(*origin)
        scored = []
        for track, revision in entries:
            if track.id == item_id:
                continue
            moods = self._moods(track, revision)
            labels = centre.keys() | moods.keys()
            distance = math.sqrt(sum((centre.get(k, 0) - moods.get(k, 0)) ** 2 for k in labels))
            scored.append((distance, track))
        scored.sort(key=lambda pair: (pair[0], pair[1].id))
        result = [
            {"item_id": t.id, "title": t.title, "author": t.artist, "distance": round(d, 6)}
            for d, t in scored[:n]
        ]
        return json_response(200, result)

    def server_error(self, request: Request) -> Response:
        """AudioMuse-AI's Flask error document."""
        return json_response(500, {"error": "Internal Server Error"})

    def too_many_requests(self, request: Request, retry_after: int) -> Response:
        """A 429 with Retry-After, as a reverse proxy in front of AudioMuse-AI sends it."""
        return json_response(
            429, {"error": "Too Many Requests"}, (("Retry-After", str(retry_after)),)
        )
