"""Metadata Playlister keeps about the library: genre caches and audio features."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from django.db import models
from django.utils import timezone

CACHE_TTL_DAYS = 90
CACHE_TTL_JITTER = 0.10


def cache_expiry(now: datetime | None = None, *, rng: random.Random | None = None) -> datetime:
    """90 days ± 10 %: entries written together do not all expire on the same day."""
    now = now or timezone.now()
    factor = 1 + (rng or random).uniform(-CACHE_TTL_JITTER, CACHE_TTL_JITTER)
    return now + timedelta(days=CACHE_TTL_DAYS * factor)


class CacheEntry(models.Model):
    genres = models.JSONField(default=list, blank=True)
    moods = models.JSONField(default=list, blank=True)
    sources = models.JSONField(default=list, blank=True, help_text="Providers that gave tags.")
    # The Plex rating key the entry was built from: a refresh reads Plex's tags again.
    plex_key = models.CharField(max_length=64, blank=True)
    cached_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(default=cache_expiry)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True


class ArtistCache(CacheEntry):
    """Genres and moods of one artist, merged from Plex, Last.fm and Spotify."""

    name = models.CharField(max_length=500)
    normalized_name = models.CharField(max_length=500, unique=True)
    spotify_id = models.CharField(max_length=64, blank=True)

    class Meta:
        db_table = "artist_cache"
        indexes = [
            models.Index(fields=["expires_at"], name="artist_cache_expires"),
            models.Index(fields=["last_used_at"], name="artist_cache_last_used"),
        ]

    def __str__(self) -> str:
        return self.name


class AlbumCache(CacheEntry):
    """Genres and moods of one album (Plex tags, Last.fm album tags, else the artist's)."""

    artist_name = models.CharField(max_length=500)
    album_name = models.CharField(max_length=500)
    normalized_artist = models.CharField(max_length=500)
    normalized_album = models.CharField(max_length=500)
    spotify_id = models.CharField(max_length=64, blank=True)

    class Meta:
        db_table = "album_cache"
        constraints = [
            models.UniqueConstraint(
                fields=["normalized_artist", "normalized_album"], name="album_cache_unique"
            )
        ]
        indexes = [
            models.Index(fields=["expires_at"], name="album_cache_expires"),
            models.Index(fields=["last_used_at"], name="album_cache_last_used"),
        ]

    def __str__(self) -> str:
        return f"{self.artist_name} — {self.album_name}"


class AudioFeatures(models.Model):
    """AudioMuse-AI's analysis of one track, keyed by its Plex rating key."""

    rating_key = models.CharField(max_length=64, unique=True)
    title = models.CharField(max_length=500, blank=True)
    artist = models.CharField(max_length=500, blank=True)
    album = models.CharField(max_length=500, blank=True)
    tempo = models.FloatField(null=True, blank=True)
    key = models.CharField(max_length=8, blank=True)
    scale = models.CharField(max_length=16, blank=True)
    energy = models.FloatField(null=True, blank=True)
    mood_vector = models.JSONField(default=dict, blank=True)
    other_features = models.JSONField(default=dict, blank=True)
    fingerprint = models.CharField(max_length=128, blank=True)
    synced_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "audio_features"
        verbose_name_plural = "audio features"

    def __str__(self) -> str:
        return f"{self.rating_key} {self.artist} — {self.title}"
