"""The demo mode serves a library with every real-server shape the suite meets."""

from __future__ import annotations

from enrichment.demo import demo_settings, start_demo
from enrichment.fakes.shapes import VARIOUS_ARTISTS
from enrichment.plex import PlexLibrary, connect


def test_the_demo_library_holds_the_real_shapes(settings) -> None:
    demo = start_demo(artists=40, latency=0.0)
    try:
        library = demo.services.plex.library
        assert library.artist_named(VARIOUS_ARTISTS) is not None
        assert any(t.original_title for t in library.tracks)
        assert library.removed_tracks
        assert any(library.item(p.track_key) is None for p in library.plays)
        (hidden,) = library.extra_sections
        assert hidden.section_hidden
        for name, value in demo_settings(demo).items():
            setattr(settings, name, value)
        settings.PLAYLISTER_PLEX_SECTION = ""
        assert PlexLibrary(connect()).section.title == library.section_title  # not the hidden
    finally:
        demo.stop()
