from __future__ import annotations

from django.urls import path

from playlister.views import cards, custom, exclusions, generation

app_name = "playlister"

urlpatterns = [
    path("", cards.playlists_page, name="playlists"),
    path("cards", cards.cards_section, name="cards"),
    path("card/<str:key>", cards.card, name="card"),
    path("card/<str:key>/generate", cards.generate, name="generate"),
    path("card/<str:key>/preview", cards.preview, name="preview"),
    path("<int:pk>/", generation.generation, name="generation"),
    path("<int:pk>/export.m3u8", generation.export_m3u, name="export-m3u"),
    path("<int:pk>/export.csv", generation.export_csv, name="export-csv"),
    path("exclusions", exclusions.save, name="exclusions"),
    path("exclusions/reset", exclusions.reset, name="exclusions-reset"),
    path("tags", custom.tag_choices, name="tags"),
    path("custom/new", custom.create, name="custom-create"),
    path("custom/<int:pk>/", custom.edit, name="custom-edit"),
    path("custom/<int:pk>/toggle", custom.toggle, name="toggle"),
    path("custom/<int:pk>/delete", custom.delete, name="delete"),
]
