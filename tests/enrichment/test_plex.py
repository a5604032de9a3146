"""The Plex reader against the fake's real-server shapes: sections, metadata by keys."""

from __future__ import annotations

import logging

import pytest

from enrichment.http import ProviderConfigError
from enrichment.plex import METADATA_BATCH, PlexLibrary, Section, choose_section, connect
from tests.enrichment.helpers import library_of, serving

LIBRARY = library_of(30, seed=21)


@pytest.fixture
def fakes(settings):
    with serving(settings, LIBRARY) as services:
        yield services


def test_a_hidden_music_section_is_not_chosen_by_default(fakes, settings) -> None:
    settings.PLAYLISTER_PLEX_SECTION = ""
    library = PlexLibrary(connect())
    assert (str(library.section.key), library.section.title) == ("1", "Music")


@pytest.mark.parametrize("wanted", ["Hörbücher", "hörbücher", "2"])
def test_the_section_setting_picks_by_title_or_key(fakes, settings, wanted) -> None:
    settings.PLAYLISTER_PLEX_SECTION = wanted
    library = PlexLibrary(connect())
    assert library.section.title == "Hörbücher"
    hidden = LIBRARY.extra_sections[0]
    assert {a.title for a in library.artists()} == {a.title for a in hidden.artists}


def test_an_unknown_section_names_the_choices(fakes, settings) -> None:
    settings.PLAYLISTER_PLEX_SECTION = "Musik"
    with pytest.raises(ProviderConfigError) as caught:
        PlexLibrary(connect())
    message = str(caught.value)
    assert "no music section 'Musik'" in message and "PLAYLISTER_PLEX_SECTION" in message
    assert "'Music' (key 1)" in message and "'Hörbücher' (key 2, hidden)" in message
    assert "Filme" not in message  # not a music section
    assert fakes.plex_token not in message


def test_choosing_among_sections_without_a_server() -> None:
    hidden = Section("3", "Hörspiele", hidden=True)
    music = Section("7", "Musik 🎵", hidden=False)
    assert choose_section([hidden, music], "", where="x") == music
    assert choose_section([hidden, music], "3", where="x") == hidden
    with pytest.raises(ProviderConfigError, match="no visible music section on x: set"):
        choose_section([hidden], "", where="x")
    with pytest.raises(ProviderConfigError, match="no music section on x: add one"):
        choose_section([], "", where="x")


def test_metadata_by_keys_returns_every_item_asked_for(fakes) -> None:
    # A real server answers /library/metadata/<ids> with `size` only: nothing may depend on
    # totalSize (plexapi's paging kept 100 of every 200 there).
    library = PlexLibrary(connect())
    keys = [str(t.rating_key) for t in LIBRARY.tracks[: 2 * METADATA_BATCH + 50]]
    fakes.plex.reset_counters()

    elements = list(library.metadata_elements(keys))
    objects = list(library.metadata(keys[:150]))

    assert [e.get("ratingKey") for e in elements] == keys
    assert [str(o.ratingKey) for o in objects] == keys[:150]
    assert fakes.plex.request_count("metadata") == 3 + 2
    assert library.missing == 0


def test_items_not_returned_are_counted_and_named_in_the_log(fakes, caplog) -> None:
    library = PlexLibrary(connect())
    present = [str(t.rating_key) for t in LIBRARY.tracks[:5]]
    gone = [str(LIBRARY.max_rating_key + 1000 + n) for n in range(3)]
    caplog.set_level(logging.WARNING, logger="enrichment.plex")

    found = list(library.full_tags([present[0], gone[0], *present[1:], *gone[1:]]))
    all_gone = list(library.metadata_elements(gone))  # the server answers 404

    assert [key for key, _ in found] == present
    assert all_gone == []
    assert library.missing == 6
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert all(key in logged for key in gone)
    assert "did not return 3 of the items" in logged


def test_a_listing_of_the_section_never_holds_the_hidden_sections_items(fakes) -> None:
    library = PlexLibrary(connect())
    tracks = library.listing("track")
    assert len(tracks) == len(LIBRARY.tracks)
    hidden = {str(t.rating_key) for t in LIBRARY.extra_sections[0].tracks}
    assert not hidden & {e.get("ratingKey") for e in tracks}


def test_paging_without_total_size_stops_at_a_short_page(fakes) -> None:
    # Metadata answers carry no totalSize: paging them explicitly ends at the first short page.
    library = PlexLibrary(connect())
    keys = ",".join(str(t.rating_key) for t in LIBRARY.tracks[:25])
    fakes.plex.reset_counters()
    got = list(library.elements(f"/library/metadata/{keys}", page=10))
    assert len(got) == 25
    assert fakes.plex.request_count("metadata") == 3
