from __future__ import annotations

from django.contrib import admin

from playlister.models import CustomPlaylist, Playlist, PlaylistTrack


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


@admin.register(Playlist)
class PlaylistAdmin(admin.ModelAdmin[Playlist]):
    list_display = ["title", "window", "track_count", "generated_at", "plex_key", "dry_run"]
    list_filter = ["window", "dry_run"]
    date_hierarchy = "generated_at"
    inlines = [PlaylistTrackInline]
    readonly_fields = [f.name for f in Playlist._meta.fields]
