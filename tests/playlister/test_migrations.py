"""The migration to managed playlists adopts what the old code had written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.state import StateApps

BEFORE = [("playlister", "0001_initial")]
AFTER = [("playlister", "0002_managed_playlists")]


def _migrate(targets: list[tuple[str, str]]) -> StateApps:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return MigrationExecutor(connection).loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_the_newest_generation_of_each_playlist_gives_its_plex_identity() -> None:
    apps = _migrate(BEFORE)
    try:
        Playlist = apps.get_model("playlister", "Playlist")
        Custom = apps.get_model("playlister", "CustomPlaylist")
        day = datetime(2026, 11, 1, 5, tzinfo=UTC)
        rock = Custom.objects.create(name="Rock Hour", genres=["rock"])
        for n, key in enumerate(["501", "502"]):
            Playlist.objects.create(
                window="morning",
                title="Daily Morning Mix",
                plex_key=key,
                generated_at=day + timedelta(days=n),
            )
        Playlist.objects.create(
            window="evening", title="Daily Evening Mix", plex_key="", dry_run=True
        )
        Playlist.objects.create(
            window="custom:Rock Hour",
            custom=rock,
            title="Rock Hour",
            plex_key="700",
            generated_at=day,
        )

        apps = _migrate(AFTER)

        Managed = apps.get_model("playlister", "ManagedPlaylist")
        rows = {m.key: m for m in Managed.objects.all()}
        assert set(rows) == {"morning", f"custom:{rock.pk}"}
        assert (rows["morning"].plex_rating_key, rows["morning"].title) == (
            "502",
            "Daily Morning Mix",
        )
        assert rows["morning"].plex_machine_identifier == ""
        assert rows[f"custom:{rock.pk}"].custom_id == rock.pk
        Playlist = apps.get_model("playlister", "Playlist")
        assert Playlist.objects.filter(managed=rows["morning"]).count() == 2
        assert Playlist.objects.get(window="evening").managed is None
    finally:
        # Every app's latest migration again, as the other tests expect.
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
