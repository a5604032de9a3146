from __future__ import annotations

from django.contrib import admin

from playlister.models import (
    CustomPlaylist,
    ExclusionSettings,
    ManagedPlaylist,
    Playlist,
    PlaylistTrack,
)


@admin.register(CustomPlaylist)
class CustomPlaylistAdmin(admin.ModelAdmin[CustomPlaylist]):
    list_display = ["name", "genres", "moods", "target_size", "strategy", "enabled", "updated_at"]
    list_filter = ["strategy", "enabled"]
    search_fields = ["name"]


def _rounded(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


TRACK_FIELDS = ["position", "rating_key", "artist", "title", "album", "genre", "rounded_score"]


class PlaylistTrackInline(admin.TabularInline[PlaylistTrack, Playlist]):
    """Read-only: a generation's tracks are a record of what was written."""

    model = PlaylistTrack
    extra = 0
    can_delete = False
    fields = tuple(TRACK_FIELDS)
    readonly_fields = TRACK_FIELDS

    @admin.display(description="score")
    def rounded_score(self, obj: PlaylistTrack) -> str:
        return _rounded(obj.score)

    def has_add_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(ManagedPlaylist)
class ManagedPlaylistAdmin(admin.ModelAdmin[ManagedPlaylist]):
    """Read-only: the Plex identity of a playlist is Playlister's to keep; editing it by hand
    could point the writer at a playlist that is not ours."""

    list_display = ["key", "title", "plex_rating_key", "plex_machine_identifier", "written_at"]
    search_fields = ["key", "title"]
    readonly_fields = [f.name for f in ManagedPlaylist._meta.fields]

    def has_add_permission(self, request: object) -> bool:
        return False


@admin.register(Playlist)
class PlaylistAdmin(admin.ModelAdmin[Playlist]):
    """Generations, read-only: what was written to Plex (or previewed) stays as it was."""

    list_display = [
        "title",
        "window",
        "track_count",
        "generated_at",
        "plex_key",
        "job_id",
        "dry_run",
    ]
    list_filter = ["window", "dry_run"]
    date_hierarchy = "generated_at"
    inlines = [PlaylistTrackInline]
    readonly_fields = [f.name for f in Playlist._meta.fields]

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(ExclusionSettings)
class ExclusionSettingsAdmin(admin.ModelAdmin[ExclusionSettings]):
    """Read-only: the Playlists page edits them through its form, which checks every rule
    (a seasonal rule saved here unchecked would stop every generation)."""

    list_display = ["__str__", "genres", "seasonal", "updated_at"]
    readonly_fields = ["genres", "seasonal", "updated_at"]

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False
