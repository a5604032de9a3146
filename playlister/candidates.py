"""Building scored candidates for each kind of playlist from what Plex and the caches say."""

from __future__ import annotations

import itertools
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings

from enrichment.models import AlbumCache, ArtistCache, AudioFeatures
from enrichment.names import normalize_name, normalize_tag
from playlister import scoring
from playlister.artists import credit_parts, track_artists
from playlister.selection import Candidate
from playlister.windows import Window, WindowSpec

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from playlister.plex import PlayInfo, TrackInfo

DAILY_DAYS = 30
FALLBACK_RATING = 7.0
FALLBACK_PLAYS = 5
ABSENT_DAYS = 90


class KnownArtists:
    """Whether a name is a known artist: cached, an album artist seen, or in the section's
    artist listing, read once, on the first name the others do not know (only credits with
    a separator ask)."""

    def __init__(self, names: set[str], listing: Callable[[], Iterable[str]] | None) -> None:
        self._names = names
        self._listing = listing

    def __call__(self, name: str) -> bool:
        key = normalize_name(name)
        if key in self._names:
            return True
        if self._listing is not None:
            listing, self._listing = self._listing, None
            self._names |= {normalize_name(n) for n in listing()}
            return key in self._names
        return False


Tags = tuple[list[str], list[str]]


@dataclass(frozen=True)
class TagIndex:
    """Genres and moods of tracks from the album and artist caches, Plex's own tags last.

    A track's album is looked up under its album artist; its artist under each of its own
    credited artists in turn, then the album artist (see ``playlister.artists``).
    """

    albums: dict[tuple[str, str], Tags]
    artists: dict[str, Tags]
    # (originalTitle, album artist) -> the track's artists, normalised, most specific first.
    credits: dict[tuple[str, str], tuple[str, ...]]

    @classmethod
    def load(
        cls, tracks: Iterable[TrackInfo], *, listing: Callable[[], Iterable[str]] | None = None
    ) -> TagIndex:
        """The cache entries these tracks need; ``listing`` gives the section's artist names
        if a credit cannot be resolved without them."""
        tracks = list(tracks)
        album_artists = {normalize_name(t.album_artist) for t in tracks}
        names = set(album_artists)
        for credit in {t.original_title for t in tracks if t.original_title}:
            names.update(normalize_name(part) for part in credit_parts(credit))
        artists: dict[str, Tags] = {}
        albums: dict[tuple[str, str], Tags] = {}
        names_list = sorted(names)
        for chunk in itertools.batched(names_list, 500):
            for name, genres, moods in ArtistCache.objects.filter(
                normalized_name__in=chunk
            ).values_list("normalized_name", "genres", "moods"):
                artists[name] = (genres, moods)
        by_album_artist = sorted(album_artists)
        for chunk in itertools.batched(by_album_artist, 500):
            for artist, album, genres, moods in AlbumCache.objects.filter(
                normalized_artist__in=chunk
            ).values_list("normalized_artist", "normalized_album", "genres", "moods"):
                albums[(artist, album)] = (genres, moods)
        known = KnownArtists(set(artists) | album_artists, listing)
        credits = {
            key: tuple(normalize_name(n) for n in track_artists(*key, known))
            for key in {(t.original_title, t.album_artist) for t in tracks}
        }
        return cls(albums, artists, credits)

    def artists_of(self, track: TrackInfo) -> tuple[str, ...]:
        """The track's artists (normalised), its own credit first, the album artist last."""
        found = self.credits.get((track.original_title, track.album_artist))
        return found or (normalize_name(track.credit),)

    def artist(self, track: TrackInfo) -> str:
        """The artist a track counts for (the artist limit, the cache's hot tier)."""
        return self.artists_of(track)[0]

    def tags(self, track: TrackInfo) -> Tags:
        album_key = (normalize_name(track.album_artist), normalize_name(track.album))
        album = self.albums.get(album_key, ([], []))
        by_artist = next(
            (self.artists[a] for a in self.artists_of(track) if a in self.artists), ([], [])
        )
        genres = _merge(album[0], by_artist[0], track.genres)
        moods = _merge(album[1], by_artist[1], track.moods)
        return genres, moods


def _merge(*groups: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for group in groups:
        for tag in group:
            seen.setdefault(normalize_tag(tag), None)
    seen.pop("", None)
    return list(seen)


def _days(now: datetime, then: datetime | None) -> float | None:
    return None if then is None else max(0.0, (now - then).total_seconds() / 86400)


def _candidate(track: TrackInfo, score: float, index: TagIndex) -> Candidate:
    genres, _ = index.tags(track)
    return Candidate(
        rating_key=track.rating_key,
        artist=index.artist(track),
        score=score,
        genre=genres[0] if genres else "",
        title=track.title,
        duration_ms=track.duration_ms,
    )


def plays_in_window(plays: Iterable[PlayInfo], spec: WindowSpec) -> dict[str, list[datetime]]:
    """Play times per track whose local hour lies in the window."""
    tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    grouped: dict[str, list[datetime]] = defaultdict(list)
    for play in plays:
        if spec.contains_hour(play.viewed_at.astimezone(tz).hour):
            grouped[play.rating_key].append(play.viewed_at)
    return grouped


def daily_candidates(
    *,
    grouped: dict[str, list[datetime]],
    tracks: dict[str, TrackInfo],
    fallback: Iterable[TrackInfo],
    index: TagIndex,
    now: datetime,
) -> list[Candidate]:
    """Window plays of the last 30 days scored by recency, rating and plays; highly rated or
    often played tracks as a fallback (they score lower: no recent play in the window)."""
    result = []
    for key, times in grouped.items():
        track = tracks.get(key)
        if track is None:
            continue
        days = _days(now, max(times)) or 0.0
        score = scoring.daily_score(
            days_since=days, user_rating=track.user_rating, plays=len(times)
        )
        result.append(_candidate(track, score, index))
    for track in fallback:
        if track.rating_key in grouped:
            continue
        good = (track.user_rating or 0) >= FALLBACK_RATING or track.view_count >= FALLBACK_PLAYS
        if not good:
            continue
        absent = _days(now, track.last_viewed_at)
        score = scoring.daily_score(
            days_since=DAILY_DAYS if absent is None else max(absent, DAILY_DAYS),
            user_rating=track.user_rating,
            plays=0,
        )
        result.append(_candidate(track, score, index))
    return result


def discovery_candidates(
    tracks: Iterable[TrackInfo], *, index: TagIndex, now: datetime
) -> list[Candidate]:
    """Never played, or not for 90 days: quality and long absence first."""
    result = []
    for track in tracks:
        days = _days(now, track.last_viewed_at)
        if days is not None and days <= ABSENT_DAYS:
            continue
        score = scoring.discovery_score(days_absent=days, user_rating=track.user_rating)
        result.append(_candidate(track, score, index))
    return result


def throwback_candidates(
    *,
    plays_then: dict[str, int],
    tracks: dict[str, TrackInfo],
    index: TagIndex,
    now: datetime,
) -> list[Candidate]:
    """Loved 2 to 5 years ago (played twice or more then, or rated 8+), silent for 90 days."""
    result = []
    for key, count in plays_then.items():
        track = tracks.get(key)
        if track is None:
            continue
        days = _days(now, track.last_viewed_at)
        if days is not None and days <= ABSENT_DAYS:
            continue
        if count < 2 and (track.user_rating or 0) < 8:
            continue
        score = scoring.throwback_score(plays_then=count, user_rating=track.user_rating)
        result.append(_candidate(track, score, index))
    return result


def lean_to_profile(
    candidates: list[Candidate], window: Window, spec: WindowSpec
) -> list[Candidate]:
    """With AudioMuse features, daily mixes prefer tracks near the window's energy/tempo."""
    if spec.profile is None or window not in (Window.MORNING, Window.AFTERNOON, Window.EVENING):
        return candidates
    keys = [c.rating_key for c in candidates]
    features: dict[str, tuple[float | None, float | None]] = {}
    for chunk in itertools.batched(keys, 500):
        for key, energy, tempo in AudioFeatures.objects.filter(rating_key__in=chunk).values_list(
            "rating_key", "energy", "tempo"
        ):
            features[key] = (energy, tempo)
    if not features:
        return candidates
    leaned = []
    for c in candidates:
        energy, tempo = features.get(c.rating_key, (None, None))
        fit = scoring.profile_fit(energy=energy, tempo=tempo, target=spec.profile)
        leaned.append(
            Candidate(
                c.rating_key,
                c.artist,
                c.score * (0.75 + 0.25 * fit),
                c.genre,
                c.title,
                c.duration_ms,
            )
        )
    return leaned


def since(now: datetime, days: int) -> datetime:
    return now - timedelta(days=days)
