"""Building scored candidates for each kind of playlist from what Plex and the caches say."""

from __future__ import annotations

import itertools
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings

from enrichment.models import AlbumCache, ArtistCache, AudioFeatures
from enrichment.names import normalize_name
from enrichment.tags import merge_tags
from playlister import scoring
from playlister.artists import credit_parts, track_artists
from playlister.selection import Candidate, Pool
from playlister.shape import Sound
from playlister.windows import DAILY, Window, WindowSpec

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from playlister.plex import PlayInfo, TrackInfo
    from playlister.scoring import Parts

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
        genres = merge_tags(album[0], by_artist[0], track.genres)
        moods = merge_tags(album[1], by_artist[1], track.moods)
        return genres, moods

    def all_genres(self, track: TrackInfo) -> list[str]:
        """Every genre the track is known by: its album's, each credited artist's, its own
        (what the exclusions look at: a guest comedian makes the track comedy)."""
        album_key = (normalize_name(track.album_artist), normalize_name(track.album))
        by_artists = [self.artists.get(a, ([], []))[0] for a in self.artists_of(track)]
        return merge_tags(self.albums.get(album_key, ([], []))[0], *by_artists, track.genres)


def _days(now: datetime, then: datetime | None) -> float | None:
    return None if then is None else max(0.0, (now - then).total_seconds() / 86400)


def _candidate(track: TrackInfo, parts: Parts, index: TagIndex, pool: Pool) -> Candidate:
    genres, _ = index.tags(track)
    return Candidate(
        rating_key=track.rating_key,
        artist=index.artist(track),
        score=sum(parts.values()),
        genre=genres[0] if genres else "",
        title=track.title,
        duration_ms=track.duration_ms,
        track=track,
        genres=tuple(index.all_genres(track)),
        parts=parts,
        pool=pool,
    )


def plays_in_window(plays: Iterable[PlayInfo], spec: WindowSpec) -> dict[str, list[datetime]]:
    """Play times per track whose local hour lies in the window."""
    tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    grouped: dict[str, list[datetime]] = defaultdict(list)
    for play in plays:
        if spec.contains_hour(play.viewed_at.astimezone(tz).hour):
            grouped[play.rating_key].append(play.viewed_at)
    return grouped


def rank_by_history(
    grouped: dict[str, list[datetime]], *, now: datetime, skip: set[str]
) -> list[str]:
    """The window tracks, ``skip`` left out, best first by what the history alone says:
    recency and plays in the window, the rating taken as the best it could be. Only the
    first few hundred are asked of Plex: the rating moves a daily score by at most 0.18 of
    1, so a pool a few times the playlist's size holds every track that could be among its
    best."""

    def ceiling(key: str) -> float:
        times = grouped[key]
        days = _days(now, max(times)) or 0.0
        return scoring.daily_score(days_since=days, user_rating=10.0, plays=len(times))

    return sorted((k for k in grouped if k not in skip), key=lambda k: (-ceiling(k), k))


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
        parts = scoring.daily_parts(
            days_since=days, user_rating=track.user_rating, plays=len(times)
        )
        result.append(_candidate(track, parts, index, Pool.HISTORY))
    for track in fallback:
        if track.rating_key in grouped:
            continue
        good = (track.user_rating or 0) >= FALLBACK_RATING or track.view_count >= FALLBACK_PLAYS
        if not good:
            continue
        absent = _days(now, track.last_viewed_at)
        parts = scoring.daily_parts(
            days_since=DAILY_DAYS if absent is None else max(absent, DAILY_DAYS),
            user_rating=track.user_rating,
            plays=0,
        )
        result.append(_candidate(track, parts, index, Pool.FALLBACK))
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
        parts = scoring.discovery_parts(days_absent=days, user_rating=track.user_rating)
        result.append(_candidate(track, parts, index, Pool.LIBRARY))
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
        parts = scoring.throwback_parts(plays_then=count, user_rating=track.user_rating)
        result.append(_candidate(track, parts, index, Pool.THEN))
    return result


def custom_candidates(
    tracks: Iterable[TrackInfo],
    *,
    index: TagIndex,
    genres: set[str],
    moods: set[str],
    score: Callable[[TrackInfo], Parts],
) -> list[Candidate]:
    """Tracks with one of ``genres`` (if any) and one of ``moods`` (if any); the primary
    genre is the first of the playlist's genres the track has."""
    result = []
    for track in tracks:
        t_genres, t_moods = index.tags(track)
        if genres and not genres & set(t_genres):
            continue
        if moods and not moods & set(t_moods):
            continue
        found = _candidate(track, score(track), index, Pool.LIBRARY)
        primary = next((g for g in t_genres if g in genres), found.genre)
        result.append(replace(found, genre=primary))
    return result


def sounds_of(keys: Iterable[str]) -> dict[str, Sound]:
    """AudioMuse's features of these tracks, where it analysed them."""
    keys = list(keys)
    found: dict[str, Sound] = {}
    for chunk in itertools.batched(keys, 500):
        for key, energy, tempo, music_key, scale in AudioFeatures.objects.filter(
            rating_key__in=chunk
        ).values_list("rating_key", "energy", "tempo", "key", "scale"):
            found[key] = Sound(energy, tempo, music_key, scale)
    return found


def lean_to_profile(
    candidates: list[Candidate], window: Window, spec: WindowSpec, sounds: dict[str, Sound]
) -> list[Candidate]:
    """With AudioMuse features, daily mixes prefer tracks near the window's energy/tempo:
    the score is multiplied by 0.75 + 0.25 · fit (the ``fit`` part says by how much)."""
    if spec.profile is None or window not in DAILY:
        return candidates
    if not sounds:
        return candidates
    leaned = []
    for c in candidates:
        sound = sounds.get(c.rating_key, Sound())
        fit = scoring.profile_fit(energy=sound.energy, tempo=sound.tempo, target=spec.profile)
        factor = 0.75 + 0.25 * fit
        parts = {name: value * factor for name, value in c.parts.items()}
        leaned.append(replace(c, score=c.score * factor, parts=parts, fit=fit))
    return leaned


def since(now: datetime, days: int) -> datetime:
    return now - timedelta(days=days)
