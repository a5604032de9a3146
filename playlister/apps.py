from __future__ import annotations

from django.apps import AppConfig


class PlaylisterConfig(AppConfig):
    name = "playlister"
    verbose_name = "Playlists"
