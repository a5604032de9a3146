"""Reads for the playlist pages: one card per managed playlist, a generation with its tracks,
the difference from the previous one, a playlist's history, the genre and mood pickers.

Every read is a fixed number of queries whatever the history's size: the cards cost five
(the custom playlists — not for a window's card alone, nor when the caller read them —,
the managed playlists with the ids of their latest generation and preview, those
generations, schedules, active jobs) plus one live-store round trip.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db.models import Count, OuterRef, Subquery
from django.utils import timezone
from plexapi.utils import joinArgs

from enrichment.models import AlbumCache, ArtistCache, AudioFeatures
from enrichment.names import normalize_name, normalize_tag
from jobs import selectors as job_selectors
from jobs.models import ACTIVE_STATUSES, JobRun, JobSchedule
from jobs.schedules import cron
from jobs.schedules.present import from_now_text, when_text
from jobs.schedules.services import is_enabled, zone
from playlister.generations import format_duration
from playlister.links import url_of
from playlister.models import CustomPlaylist, ManagedPlaylist, Playlist, PlaylistTrack
from playlister.windows import DAILY, WINDOWS, Window, window_title

if TYPE_CHECKING:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from jobs.selectors import ProgressView

HISTORY_SHOWN = 20
PLAYLIST_JOB = "playlist"
CUSTOM_JOB = "custom-playlists"


def plex_web_url(machine_identifier: str, rating_key: str) -> str:
    """Plex Web's page of a playlist, built as plexapi's ``Playlist.getWebURL`` builds it
    (``PLAYLISTER_PLEX_WEB_URL`` is its ``base``); "" until the playlist was written."""
    if not machine_identifier or not rating_key:
        return ""
    base = settings.PLAYLISTER_PLEX_WEB_URL
    query: str = joinArgs({"key": f"/playlists/{rating_key}"})  # type: ignore[no-untyped-call]
    return f"{base}#!/server/{machine_identifier}/playlist{query}"


@dataclass(frozen=True)
class NextRun:
    schedule: str  # the schedule's name (its row on the Schedules page)
    label: str
    at: datetime | None  # None: the schedule is disabled
    text: str
    from_now: str

    @property
    def url(self) -> str:
        """Its row on the Schedules page."""
        return f"{url_of('jobs:schedules')}#schedule-{self.schedule}"


@dataclass
class Card:
    """One managed playlist as its card shows it."""

    key: str  # "morning", "custom:3"
    title: str
    kind: str  # "Daily · 06-12 h", "Weekly", "Custom"
    custom: CustomPlaylist | None = None
    managed: ManagedPlaylist | None = None
    latest: Playlist | None = None
    preview: Playlist | None = None
    next_run: NextRun | None = None
    job: JobRun | None = None
    progress: ProgressView | None = None

    @property
    def dom_id(self) -> str:
        return "card-" + self.key.replace(":", "-")

    @property
    def duration_text(self) -> str:
        return format_duration(self.latest.duration_ms) if self.latest else ""

    @property
    def plex_url(self) -> str:
        managed = self.managed
        if managed is None:
            return ""
        return plex_web_url(managed.plex_machine_identifier, managed.plex_rating_key)

    @property
    def active(self) -> bool:
        return self.job is not None and self.job.status in ACTIVE_STATUSES

    # Its links (``playlister.links``: the page has ten of them per card).
    @property
    def poll_url(self) -> str:
        return url_of("playlister:card", self.key)

    @property
    def generate_url(self) -> str:
        return url_of("playlister:generate", self.key)

    @property
    def preview_url(self) -> str:
        return url_of("playlister:preview", self.key)

    @property
    def latest_url(self) -> str:
        return url_of("playlister:generation", self.latest.pk) if self.latest else ""

    @property
    def latest_job_url(self) -> str:
        job_id = self.latest.job_id if self.latest else None
        return url_of("jobs:detail", job_id) if job_id else ""

    @property
    def m3u_url(self) -> str:
        return url_of("playlister:export-m3u", self.latest.pk) if self.latest else ""

    @property
    def csv_url(self) -> str:
        return url_of("playlister:export-csv", self.latest.pk) if self.latest else ""

    @property
    def preview_page_url(self) -> str:
        return url_of("playlister:generation", self.preview.pk) if self.preview else ""

    @property
    def job_url(self) -> str:
        return url_of("jobs:detail", self.job.pk) if self.job else ""

    @property
    def job_is_preview(self) -> bool:
        return self.job is not None and bool((self.job.params or {}).get("dry_run"))

    @property
    def job_type(self) -> str:
        return CUSTOM_JOB if self.custom is not None else PLAYLIST_JOB

    def params(self, *, dry_run: bool) -> dict[str, Any]:
        """The job parameters that generate this playlist (only it)."""
        found: dict[str, Any] = (
            {"custom": self.custom.pk} if self.custom is not None else {"window": self.key}
        )
        if dry_run:
            found["dry_run"] = True
        return found


def _window_kind(window: Window) -> str:
    hours = WINDOWS[window].hours
    if window in DAILY and hours:
        return f"Daily · {hours[0]:02d}:00 to {hours[1] + 1:02d}:00"
    return "Weekly"


def _bare_cards(customs: list[CustomPlaylist]) -> list[Card]:
    cards = [Card(w.value, window_title(w), _window_kind(w)) for w in Window]
    for custom in customs:
        kind = "Custom" + ("" if custom.enabled else " · disabled")
        cards.append(Card(f"custom:{custom.pk}", custom.name, kind, custom=custom))
    return cards


def _managed_with_latest(
    keys: list[str],
) -> dict[str, tuple[ManagedPlaylist, int | None, int | None]]:
    """The managed playlists of these keys, each with the ids of its latest generation and
    of its latest preview, in one query."""

    def latest(dry_run: bool) -> Subquery:
        return Subquery(
            Playlist.objects.filter(managed=OuterRef("pk"), dry_run=dry_run)
            .order_by("-generated_at", "-id")
            .values("id")[:1]
        )

    rows = ManagedPlaylist.objects.filter(key__in=keys).annotate(
        latest_id=latest(False), preview_id=latest(True)
    )
    return {m.key: (m, m.latest_id, m.preview_id) for m in rows}


# What a card shows of a generation (not its details, which can be long).
CARD_GENERATION_FIELDS = (
    "id",
    "managed_id",
    "generated_at",
    "track_count",
    "duration_ms",
    "job_id",
)


@dataclass
class _NextAt:
    after: datetime
    at: datetime | None


# Per cron expression and zone: the last next run computed, and after when. It holds for
# any later moment before that run (none comes between), so the cards recompute it only
# once it passed: croniter cost a millisecond per page for six schedules.
_next_at_memo: dict[tuple[str, str], _NextAt] = {}


def _next_at(expression: str, tz: ZoneInfo, now: datetime) -> datetime | None:
    key = (expression, str(tz))
    known = _next_at_memo.get(key)
    if known is not None and known.after <= now and (known.at is None or now < known.at):
        return known.at
    upcoming = cron.runs_after(expression, tz, now, 1)
    at = upcoming[0] if upcoming else None
    if len(_next_at_memo) > 256:
        _next_at_memo.clear()
    _next_at_memo[key] = _NextAt(now, at)
    return at


def _next_runs(cards: list[Card], *, now: datetime) -> None:
    """The schedule that generates each card's playlist next (enabled ones first)."""
    rows = JobSchedule.objects.select_related("schedule").filter(
        job_type__in=[PLAYLIST_JOB, CUSTOM_JOB]
    )
    tz = zone()
    shown = {c.key for c in cards}
    by_card: dict[str, list[NextRun]] = {}
    for row in rows:
        keys = [k for k in _keys_of(row.job_type, row.params or {}, cards) if k in shown]
        if not keys:
            continue
        at: datetime | None = None
        if is_enabled(row):
            at = _next_at(row.schedule.cron or "", tz, now)
        run = NextRun(
            schedule=row.name,
            label=row.label or row.name,
            at=at,
            text=when_text(at) if at else "schedule disabled",
            from_now=from_now_text(at, now=now) if at else "",
        )
        for key in keys:
            by_card.setdefault(key, []).append(run)
    for card in cards:
        runs = by_card.get(card.key, [])
        timed = sorted((r for r in runs if r.at is not None), key=lambda r: r.at or now)
        card.next_run = timed[0] if timed else (runs[0] if runs else None)


def _card_jobs(cards: list[Card]) -> None:
    """Each card's active job (the newest), and its live progress."""
    # Sorted here, not by the database: with ORDER BY id the planner may walk the primary
    # key through every row of a large table (300 ms at 1,000,000 runs on SQLite) instead
    # of the few active ones the status index finds.
    active = sorted(
        JobRun.objects.filter(
            status__in=ACTIVE_STATUSES, job_type__in=[PLAYLIST_JOB, CUSTOM_JOB]
        ).order_by(),
        key=lambda job: job.pk,
    )
    by_key: dict[str, JobRun] = {}
    for job in active:  # oldest first: the newest wins
        for key in _card_keys(job, cards):
            by_key[key] = job
    progress = job_selectors.progress_of_many(list({j.pk: j for j in by_key.values()}.values()))
    for card in cards:
        card.job = by_key.get(card.key)
        card.progress = progress.get(card.job.pk) if card.job else None


def _keys_of(job_type: str, params: dict[str, Any], cards: list[Card]) -> list[str]:
    """The cards a job of this type and these parameters generates (``custom-playlists``
    without ``custom``: every enabled custom playlist)."""
    if job_type == PLAYLIST_JOB:
        return [str(params.get("window", ""))]
    if job_type != CUSTOM_JOB:
        return []
    if params.get("custom") is not None:
        return [f"custom:{params['custom']}"]
    return [c.key for c in cards if c.custom is not None and c.custom.enabled]


def _card_keys(job: JobRun, cards: list[Card]) -> list[str]:
    return _keys_of(job.job_type, job.params or {}, cards)


def show_finished(card: Card, job_id: int) -> None:
    """Show how the job this card followed ended (only a job of this card's playlist)."""
    job = JobRun.objects.filter(pk=job_id).first()
    if job is not None and card.key in _card_keys(job, [card]):
        card.job = job
        card.progress = job_selectors.progress_of(job)


def cards(
    *,
    only: str | None = None,
    now: datetime | None = None,
    customs: list[CustomPlaylist] | None = None,
) -> list[Card]:
    """Every managed playlist's card (the five windows, then each custom playlist by name),
    or only the card ``only`` (a key). ``customs``: every custom playlist, when the caller
    read them already (the page lists them too)."""
    now = now or timezone.now()
    if customs is None:
        found_customs = CustomPlaylist.objects.all()
        if only is not None and not only.startswith("custom:"):
            found_customs = found_customs.none()  # a window's card (polled while it runs)
        customs = list(found_customs)
    found = _bare_cards(customs)
    if only is not None:
        found = [c for c in found if c.key == only]
        if not found:
            return []
    managed = _managed_with_latest([c.key for c in found])
    ids = [i for _, *pair in managed.values() for i in pair if i is not None]
    rows = Playlist.objects.only(*CARD_GENERATION_FIELDS).in_bulk(ids)
    for card in found:
        if card.key in managed:
            card.managed, latest_id, preview_id = managed[card.key]
            card.latest = rows.get(latest_id) if latest_id else None
            card.preview = rows.get(preview_id) if preview_id else None
    _next_runs(found, now=now)
    _card_jobs(found)
    return found


def card_key_of(playlist: Playlist) -> str:
    return playlist.managed.key if playlist.managed else playlist.window


# -- a generation ------------------------------------------------------------------------------
# The columns a generation's page shows of each track. Rows come as dicts, not model
# instances: building 200 instances (400 with the previous generation's) cost more than
# the queries.
TRACK_COLUMNS = (
    "position", "rating_key", "title", "artist", "album", "genre", "genres", "score",
    "user_rating", "view_count", "last_viewed_at", "duration_ms", "why",
)  # fmt: skip


def tracks_of(playlist: Playlist) -> list[dict[str, Any]]:
    """A generation's tracks in order, each as the ``TRACK_COLUMNS`` its page shows."""
    return list(
        PlaylistTrack.objects.filter(playlist_id=playlist.pk)
        .order_by("position")
        .values(*TRACK_COLUMNS)
    )


@dataclass(frozen=True)
class DroppedTrack:
    artist: str
    title: str


@dataclass
class Difference:
    """This generation against the one before it (a preview: against the latest one)."""

    previous: Playlist | None
    added: set[str] = field(default_factory=set)
    kept: set[str] = field(default_factory=set)
    dropped: list[DroppedTrack] = field(default_factory=list)


def previous_of(playlist: Playlist) -> Playlist | None:
    """The generation this one replaced (a preview: the latest written one)."""
    if playlist.managed_id is None:
        return None
    earlier = Playlist.objects.filter(managed_id=playlist.managed_id, dry_run=False).exclude(
        pk=playlist.pk
    )
    if not playlist.dry_run:
        earlier = earlier.filter(generated_at__lte=playlist.generated_at).exclude(
            generated_at=playlist.generated_at, id__gt=playlist.pk
        )
    # Only what the page shows of it (its link and date): not its details.
    return earlier.only("id", "generated_at").order_by("-generated_at", "-id").first()


def difference(playlist: Playlist, rating_keys: list[str]) -> Difference:
    """``rating_keys``: this generation's tracks."""
    previous = previous_of(playlist)
    found = Difference(previous)
    if previous is None:
        return found
    before = PlaylistTrack.objects.filter(playlist_id=previous.pk).order_by("position")
    rows = list(before.values_list("rating_key", "artist", "title"))
    now_keys = set(rating_keys)
    before_keys = {key for key, _, _ in rows}
    found.added = now_keys - before_keys
    found.kept = now_keys & before_keys
    found.dropped = [DroppedTrack(a, t) for key, a, t in rows if key not in now_keys]
    return found


def history_of(playlist: Playlist, *, limit: int = HISTORY_SHOWN) -> list[Playlist]:
    """The latest written generations of the same managed playlist, newest first."""
    if playlist.managed_id is None:
        return []
    return list(
        Playlist.objects.filter(managed_id=playlist.managed_id, dry_run=False)
        .select_related(None)
        .only("id", "title", "generated_at", "track_count", "duration_ms", "job_id")
        .order_by("-generated_at", "-id")[:limit]
    )


# -- the genre and mood pickers ----------------------------------------------------------------
@dataclass(frozen=True)
class TagChoice:
    tag: str
    tracks: int  # analysed tracks (AudioMuse) whose album or artist has it
    artists: int

    @property
    def text(self) -> str:
        parts = []
        if self.tracks:
            parts.append(f"{self.tracks} track{'s' if self.tracks != 1 else ''}")
        parts.append(f"{self.artists} artist{'s' if self.artists != 1 else ''}")
        return f"{self.tag} · {', '.join(parts)}"


def tag_choices(limit: int = 300) -> tuple[list[TagChoice], list[TagChoice]]:
    """Genres and moods known to the caches, each with the number of tracks it matches —
    counted over the tracks AudioMuse analysed (they carry their artist and album), resolved
    through the album and artist caches as the generators resolve them — and of artists;
    most tracks first, at most ``limit`` of each."""
    artist_tags: dict[str, tuple[list[str], list[str]]] = {
        name: (genres, moods)
        for name, genres, moods in ArtistCache.objects.values_list(
            "normalized_name", "genres", "moods"
        ).iterator(chunk_size=2000)
    }
    album_tags = {
        (artist, album): (genres, moods)
        for artist, album, genres, moods in AlbumCache.objects.values_list(
            "normalized_artist", "normalized_album", "genres", "moods"
        ).iterator(chunk_size=2000)
    }
    counts: list[dict[str, list[int]]] = [{}, {}]  # genres, moods: tag → [tracks, artists]
    for tags in artist_tags.values():
        for kind in (0, 1):
            for tag in {normalize_tag(t) for t in tags[kind]}:
                counts[kind].setdefault(tag, [0, 0])[1] += 1
    analysed = AudioFeatures.objects.values_list("artist", "album").annotate(n=Count("id"))
    for artist, album, n in analysed.iterator(chunk_size=2000):
        key = (normalize_name(artist), normalize_name(album))
        by_album = album_tags.get(key, ([], []))
        by_artist = artist_tags.get(key[0], ([], []))
        for kind in (0, 1):
            for tag in {normalize_tag(t) for t in (*by_album[kind], *by_artist[kind])}:
                counts[kind].setdefault(tag, [0, 0])[0] += n
    genres, moods = (
        sorted(
            (TagChoice(tag, n[0], n[1]) for tag, n in found.items() if tag),
            key=lambda c: (-c.tracks, -c.artists, c.tag),
        )[:limit]
        for found in counts
    )
    return genres, moods
