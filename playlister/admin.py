from __future__ import annotations

from django.contrib import admin

from playlister.models import CustomPlaylist, ManagedPlaylist, Playlist, PlaylistTrack


@admin.register(CustomPlaylist)
class CustomPlaylistAdmin(admin.ModelAdmin[CustomPlaylist]):
    list_display = ["name", "genres", "moods", "target_size", "strategy", "enabled", "updated_at"]
    list_filter = ["strategy", "enabled"]
    search_fields = ["name"]


class PlaylistTrackInline(admin.TabularInline[PlaylistTrack, Playlist]):
    model = PlaylistTrack
    extra = 0
    can_delete = False
    readonly_fields = ["position", "rating_key", "artist", "title", "genre", "score"]

    def has_add_permission(self, request: object, obj: object = None) -> bool:
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
