from __future__ import annotations

from django.urls import path

from playlister import views

app_name = "playlister"

urlpatterns = [
    path("", views.playlists, name="playlists"),
    path("custom/<int:pk>/toggle", views.toggle, name="toggle"),
    path("custom/<int:pk>/delete", views.delete, name="delete"),
]
