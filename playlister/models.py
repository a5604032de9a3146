"""The playlist domain: user-defined custom playlists and every playlist Playlister wrote."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from playlister.links import url_of


class Strategy(models.TextChoices):
    BALANCED = "balanced", "Balanced"
    QUALITY = "quality", "Quality"
    DISCOVERY = "discovery", "Discovery"
    THROWBACK = "throwback", "Throwback"


def _tag_list(value: object, what: str) -> None:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValidationError(f"{what} must be a list of names.")
    if len(value) > 2:
        raise ValidationError(f"At most 2 {what}.")


def validate_genres(value: object) -> None:
    _tag_list(value, "genres")


def validate_moods(value: object) -> None:
    _tag_list(value, "moods")


class CustomPlaylist(models.Model):
    """A playlist a person defined by genres and/or moods."""

    name = models.CharField(max_length=100, unique=True)
    genres = models.JSONField(default=list, blank=True, validators=[validate_genres])
    moods = models.JSONField(default=list, blank=True, validators=[validate_moods])
    target_size = models.PositiveSmallIntegerField(
        default=50, validators=[MinValueValidator(10), MaxValueValidator(200)]
    )
    strategy = models.CharField(max_length=16, choices=Strategy.choices, default=Strategy.BALANCED)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "custom_playlists"
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(target_size__gte=10) & models.Q(target_size__lte=200),
                name="custom_playlist_target_size_range",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if not self.genres and not self.moods:
            raise ValidationError("Choose at least one genre or mood.")

    # Its links on the Playlists page (``playlister.links``).
    @property
    def edit_url(self) -> str:
        return url_of("playlister:custom-edit", self.pk)

    @property
    def toggle_url(self) -> str:
        return url_of("playlister:toggle", self.pk)

    @property
    def delete_url(self) -> str:
        return url_of("playlister:delete", self.pk)


class ManagedPlaylist(models.Model):
    """A playlist Playlister owns in Plex: one per window, one per custom playlist.

    ``key`` is its identity here ("morning" … "throwback", "custom:<id>"); the Plex fields
    say where it was last written (the server, the playlist's rating key and guid). A new
    generation replaces that Plex playlist's items in place; the person's own playlists,
    whatever their titles, are never touched. Its generations are ``Playlist`` rows.
    """

    key = models.CharField(max_length=100, unique=True)
    custom = models.OneToOneField(
        CustomPlaylist, null=True, blank=True, on_delete=models.SET_NULL, related_name="managed"
    )
    title = models.CharField(max_length=200, help_text="The title it was last written with.")
    plex_rating_key = models.CharField(max_length=64, blank=True)
    plex_guid = models.CharField(max_length=200, blank=True)
    plex_machine_identifier = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    written_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "managed_playlists"
        ordering = ["key"]

    def __str__(self) -> str:
        return self.title or self.key


class Playlist(models.Model):
    """One generation of a managed playlist as written to Plex; kept for history and
    exclusions."""

    managed = models.ForeignKey(
        ManagedPlaylist,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="generations",
    )
    window = models.CharField(max_length=100, help_text="morning … throwback, or custom:<name>")
    custom = models.ForeignKey(
        CustomPlaylist, null=True, blank=True, on_delete=models.SET_NULL, related_name="runs"
    )
    title = models.CharField(max_length=200)
    summary = models.CharField(max_length=500, blank=True)
    plex_key = models.CharField(
        max_length=64, blank=True, help_text="The rating key of the Plex playlist written to."
    )
    generated_at = models.DateTimeField(default=timezone.now)
    track_count = models.PositiveIntegerField(default=0)
    duration_ms = models.BigIntegerField(default=0)
    seed = models.BigIntegerField(default=0)
    job_id = models.BigIntegerField(null=True, blank=True, help_text="the job_runs row")
    # A preview: chosen and kept so that it can be shown, never written to Plex; the cards,
    # the history and the "placed in another playlist this week" exclusion ignore it.
    dry_run = models.BooleanField(default=False)
    candidates = models.PositiveIntegerField(default=0)
    # How the choice went: {"excluded": [[rule, count], …], "limits": {"per_artist": 2,
    # "genre_share": 0.4}, "relaxed": bool, "explored": n, "shaped": n, "notes": […]}.
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        db_table = "playlists"
        ordering = ["-generated_at"]
        indexes = [
            models.Index(fields=["window", "-generated_at"], name="playlists_window"),
            # A managed playlist's latest generations (its card, its history, the diff).
            models.Index(
                fields=["managed", "dry_run", "-generated_at", "-id"], name="playlists_managed"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.generated_at:%Y-%m-%d %H:%M})"

    def get_absolute_url(self) -> str:
        """Its page (``playlister.links``: a generation's page lists twenty others)."""
        return url_of("playlister:generation", self.pk)

    @property
    def job_url(self) -> str:
        """The page of the job that made it; "" when none did."""
        return url_of("jobs:detail", self.job_id) if self.job_id else ""


class PlaylistTrack(models.Model):
    playlist = models.ForeignKey(Playlist, on_delete=models.CASCADE, related_name="tracks")
    position = models.PositiveSmallIntegerField()
    rating_key = models.CharField(max_length=64)
    title = models.CharField(max_length=500, blank=True)
    # As Plex credits the track (its own credit, else the album artist), not normalised.
    artist = models.CharField(max_length=500, blank=True)
    album = models.CharField(max_length=500, blank=True)
    genre = models.CharField(max_length=100, blank=True)
    genres = models.JSONField(default=list, blank=True)
    score = models.FloatField(default=0)
    user_rating = models.FloatField(null=True, blank=True)
    view_count = models.PositiveIntegerField(default=0)
    last_viewed_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    # The media file as Plex has it (its first part), for M3U exports; "" when unknown.
    file = models.CharField(max_length=1000, blank=True)
    # Why it is there: {"parts": {"recency": 0.61, …}, "pool": "history", "pick": "top",
    # "relaxed": "genre share raised to 60 %"}.
    why = models.JSONField(default=dict, blank=True)

    class Meta:
        db_table = "playlist_tracks"
        ordering = ["playlist", "position"]
        constraints = [
            models.UniqueConstraint(fields=["playlist", "position"], name="playlist_track_pos")
        ]
        indexes = [models.Index(fields=["rating_key"], name="playlist_tracks_key")]

    def __str__(self) -> str:
        return f"{self.position}. {self.artist} — {self.title}"


class ExclusionSettings(models.Model):
    """The exclusions saved on the Playlists page (one row). While there is none, the
    settings' ``PLAYLISTER_EXCLUDE_GENRES`` / ``PLAYLISTER_SEASONAL_GENRES`` apply; once
    saved, this row wins (see ``playlister.exclusions``)."""

    SINGLETON = 1

    id = models.PositiveSmallIntegerField(primary_key=True, default=SINGLETON)
    genres = models.JSONField(default=list, blank=True)
    # "genre:MM-DD:MM-DD": the genre is allowed only between those days.
    seasonal = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "playlist_exclusions"
        verbose_name_plural = "exclusion settings"

    def __str__(self) -> str:
        return "Exclusions"
