from __future__ import annotations

from django.contrib import admin

from enrichment.models import AlbumCache, ArtistCache, AudioFeatures


@admin.register(ArtistCache)
class ArtistCacheAdmin(admin.ModelAdmin[ArtistCache]):
    list_display = ["name", "genres", "sources", "cached_at", "expires_at", "last_used_at"]
    list_filter = ["cached_at", "expires_at"]
    search_fields = ["name", "normalized_name"]
    readonly_fields = ["normalized_name", "cached_at"]
    show_full_result_count = False


@admin.register(AlbumCache)
class AlbumCacheAdmin(admin.ModelAdmin[AlbumCache]):
    list_display = ["artist_name", "album_name", "genres", "sources", "cached_at", "expires_at"]
    list_filter = ["cached_at", "expires_at"]
    search_fields = ["artist_name", "album_name"]
    readonly_fields = ["normalized_artist", "normalized_album", "cached_at"]
    show_full_result_count = False


@admin.register(AudioFeatures)
class AudioFeaturesAdmin(admin.ModelAdmin[AudioFeatures]):
    list_display = ["rating_key", "artist", "title", "tempo", "key", "scale", "energy", "synced_at"]
    search_fields = ["rating_key", "artist", "title", "album"]
    list_filter = ["scale", "synced_at"]
    show_full_result_count = False
