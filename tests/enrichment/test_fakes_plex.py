"""The fake Plex server driven by the real plexapi client over HTTP."""

from __future__ import annotations

from datetime import timedelta
from xml.etree import ElementTree

import pytest
import requests
from plexapi.exceptions import BadRequest, NotFound, Unauthorized
from plexapi.server import PlexServer

from enrichment.fakes import FakePlexServer, Library
from enrichment.fakes.plex_xml import LISTING_GENRES

from .conftest import NOW, TOKEN


def _artist_with_many_tags(library: Library):
    return next(
        a for a in library.artists if len(a.genres) > LISTING_GENRES and a.styles and a.moods
    )


def test_server_identity_and_sections(plex: PlexServer, fake_plex: FakePlexServer) -> None:
    assert plex.machineIdentifier == fake_plex.machine_identifier
    assert plex.version
    assert plex.identity().machineIdentifier == fake_plex.machine_identifier
    music, hidden, video = plex.library.sections()
    assert (music.key, music.type, music.title) == (1, "artist", "Music")
    assert (hidden.key, hidden.type, hidden.title) == (2, "artist", "Hörbücher")
    assert video.type == "movie"
    assert music.agent and music.uuid and music.uuid != hidden.uuid
    raw = requests.get(
        f"{fake_plex.url}/library/sections", headers={"X-Plex-Token": TOKEN}, timeout=5
    ).text
    assert raw.count('hidden="1"') == 1 and 'title="Hörbücher"' in raw


def test_paging_delivers_every_track_in_few_requests(paging_library: Library) -> None:
    with FakePlexServer(paging_library, token=TOKEN) as fake:
        section = PlexServer(fake.url, TOKEN).library.sectionByID(1)
        fake.reset_counters()

        tracks = section.searchTracks()

        assert len(tracks) == 2500
        assert {t.ratingKey for t in tracks} == {t.rating_key for t in paging_library.tracks}
        # plexapi's default container size is 100: 25 pages, nothing else.
        assert fake.request_count("section_all") == 25
        assert fake.request_count() == 25

        fake.reset_counters()
        big_pages = section.all(libtype="track", container_size=1000)
        assert len(big_pages) == 2500
        assert fake.request_count("section_all") == 3

        fake.reset_counters()
        tail = section.searchTracks(container_start=2400, container_size=50)
        assert [t.ratingKey for t in tail] == [t.ratingKey for t in tracks[2400:]]
        assert fake.request_count("section_all") == 2


def test_section_listing_pages_carry_total_size_and_offset(fake_plex: FakePlexServer) -> None:
    response = requests.get(
        f"{fake_plex.url}/library/sections/1/all?type=10",
        headers={
            "X-Plex-Token": TOKEN,
            "X-Plex-Container-Start": "20",
            "X-Plex-Container-Size": "7",
        },
        timeout=5,
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/xml")
    head = response.text.split(">", 2)[1]
    assert 'size="7"' in head
    assert f'totalSize="{len(fake_plex.library.tracks)}"' in head
    assert 'offset="20"' in head


def test_listing_carries_two_genres_and_no_styles_or_moods(
    plex: PlexServer, library: Library
) -> None:
    expected = _artist_with_many_tags(library)
    listed = next(
        a for a in plex.library.sectionByID(1).searchArtists() if a.ratingKey == expected.rating_key
    )

    assert [g.tag for g in listed.genres] == list(expected.genres[:LISTING_GENRES])
    assert listed.styles == []
    assert listed.moods == []


def test_full_metadata_carries_every_tag(plex: PlexServer, library: Library) -> None:
    expected = _artist_with_many_tags(library)

    artist = plex.fetchItem(expected.rating_key)

    assert artist.title == expected.title
    assert [g.tag for g in artist.genres] == list(expected.genres)
    assert [s.tag for s in artist.styles] == list(expected.styles)
    assert [m.tag for m in artist.moods] == list(expected.moods)
    assert all(g.id for g in artist.genres)
    assert artist.guids[0].id == f"mbid://{expected.mbid}"


def test_several_ids_of_metadata_in_one_request(
    plex: PlexServer, fake_plex: FakePlexServer, library: Library
) -> None:
    track, album, artist = library.tracks[5], library.albums[3], library.artists[2]
    keys = [track.rating_key, album.rating_key, artist.rating_key]

    items = plex.fetchItems(f"/library/metadata/{','.join(map(str, keys))}")

    assert [i.ratingKey for i in items] == keys
    assert [i.TYPE for i in items] == ["track", "album", "artist"]
    assert fake_plex.request_count("metadata") == 1
    assert fake_plex.request_count() == 1
    assert items[0].grandparentTitle == library.artist(track.artist_key).title
    assert items[0].parentRatingKey == track.album_key
    assert items[0].duration == track.duration_ms


def test_item_attributes_match_the_library(plex: PlexServer, library: Library) -> None:
    rated = next(
        t for t in library.tracks if t.user_rating is not None and t.view_count and t.added_at
    )
    track = plex.fetchItem(rated.rating_key)

    assert track.userRating == rated.user_rating
    assert track.viewCount == rated.view_count
    assert track.lastViewedAt == rated.last_viewed_at
    assert track.addedAt == rated.added_at
    assert track.addedAt.tzinfo is not None
    assert track.index == rated.index
    assert track.librarySectionID == library.section_id


def test_artist_albums_tracks_and_all_leaves(plex: PlexServer, library: Library) -> None:
    expected = max(library.artists, key=lambda a: len(library.albums_of(a.rating_key)))
    artist = plex.fetchItem(expected.rating_key)

    albums = artist.albums()
    assert {a.ratingKey for a in albums} == {
        a.rating_key for a in library.albums_of(expected.rating_key)
    }

    first = library.albums_of(expected.rating_key)[0]
    album = next(a for a in albums if a.ratingKey == first.rating_key)
    assert [t.ratingKey for t in album.tracks()] == [
        t.rating_key for t in library.tracks_of_album(first.rating_key)
    ]
    assert {t.ratingKey for t in artist.tracks()} == {
        t.rating_key for t in library.tracks_of_artist(expected.rating_key)
    }


def test_section_search_filters_and_sorts(plex: PlexServer, library: Library) -> None:
    section = plex.library.sectionByID(1)
    genre = library.artists[0].genres[0]

    by_genre = section.search(libtype="artist", genre=genre)
    assert {a.ratingKey for a in by_genre} == {
        a.rating_key for a in library.artists if genre in a.genres
    }

    newest = section.search(libtype="album", sort="addedAt:desc", maxresults=5)
    assert [a.addedAt for a in newest] == sorted(
        (a.added_at for a in library.albums), reverse=True
    )[:5]

    liked = section.search(libtype="track", filters={"track.userRating>>": 6})
    assert {t.ratingKey for t in liked} == {
        t.rating_key for t in library.tracks if (t.user_rating or 0) > 6
    }
    assert section.totalViewSize(libtype="track") == len(library.tracks)


def test_unsupported_filter_is_a_bad_request(fake_plex: FakePlexServer) -> None:
    response = requests.get(
        f"{fake_plex.url}/library/sections/1/all?type=10&bogusField=1",
        headers={"X-Plex-Token": TOKEN},
        timeout=5,
    )
    assert response.status_code == 400


def test_history_filters(plex: PlexServer, library: Library) -> None:
    since = NOW - timedelta(days=60)
    expected = [p for p in reversed(library.plays) if p.viewed_at >= since]

    history = plex.history(mindate=since, librarySectionID=1)

    assert [h.historyKey for h in history] == [
        f"/status/sessions/history/{p.history_id}" for p in expected
    ]
    assert [h.viewedAt for h in history] == [p.viewed_at for p in expected]
    assert history[0].viewedAt.tzinfo is not None
    (hidden,) = library.extra_sections
    assert [h.historyKey for h in plex.history(librarySectionID=2)] == [
        f"/status/sessions/history/{p.history_id}" for p in reversed(hidden.plays)
    ]

    track_key = next(p.track_key for p in expected if library.item(p.track_key))
    per_track = plex.history(ratingKey=track_key)
    assert {h.ratingKey for h in per_track} == {track_key}
    assert len(per_track) == sum(1 for p in library.plays if p.track_key == track_key)

    per_account = plex.history(accountID=2)
    everywhere = (*library.plays, *hidden.plays)
    assert len(per_account) == sum(1 for p in everywhere if p.account_id == 2)


def test_history_upper_bound_and_ascending_sort(
    fake_plex: FakePlexServer, library: Library
) -> None:
    low, high = library.plays[10].viewed_at, library.plays[20].viewed_at
    response = requests.get(
        f"{fake_plex.url}/status/sessions/history/all",
        params={
            "sort": "viewedAt:asc",
            "viewedAt>": str(int(low.timestamp())),
            "viewedAt<": str(int(high.timestamp())),
        },
        headers={"X-Plex-Token": TOKEN},
        timeout=5,
    )
    assert response.status_code == 200
    expected = [p for p in library.plays if low <= p.viewed_at <= high]
    assert response.text.count("<Track ") == len(expected)
    first = response.text.index(f'historyKey="/status/sessions/history/{expected[0].history_id}"')
    last = response.text.index(f'historyKey="/status/sessions/history/{expected[-1].history_id}"')
    assert first < last


def test_playlist_lifecycle(plex: PlexServer, fake_plex: FakePlexServer, library: Library) -> None:
    tracks = plex.fetchItems([t.rating_key for t in library.tracks[:6]])

    playlist = plex.createPlaylist("Morning Mix", items=tracks[:3])

    assert playlist.title == "Morning Mix"
    assert playlist.playlistType == "audio"
    assert [i.ratingKey for i in playlist.items()] == [t.ratingKey for t in tracks[:3]]
    assert all(i.playlistItemID for i in playlist.items())
    view = fake_plex.playlist_titled("Morning Mix")
    assert view is not None
    assert view.item_keys == tuple(t.ratingKey for t in tracks[:3])

    playlist.addItems(tracks[3:6])
    playlist.removeItems([tracks[0]])
    playlist.editTitle("Evening Mix").editSummary("Built by Playlister")
    playlist.reload()

    assert playlist.title == "Evening Mix"
    assert playlist.summary == "Built by Playlister"
    assert playlist.leafCount == 5
    assert [i.ratingKey for i in playlist.items()] == [t.ratingKey for t in tracks[1:6]]
    (view,) = fake_plex.playlists()
    assert (view.title, view.summary) == ("Evening Mix", "Built by Playlister")
    assert view.item_keys == tuple(t.ratingKey for t in tracks[1:6])

    assert [p.title for p in plex.playlists(playlistType="audio")] == ["Evening Mix"]
    assert plex.playlists(playlistType="video") == []
    assert plex.playlist("Evening Mix").ratingKey == playlist.ratingKey
    assert playlist.ratingKey > library.max_rating_key

    playlist.delete()
    assert fake_plex.playlists() == []
    with pytest.raises(NotFound):
        plex.playlist("Evening Mix")


def test_playlist_of_an_album_expands_to_its_tracks(plex: PlexServer, library: Library) -> None:
    album = library.albums[0]
    playlist = plex.createPlaylist("Whole album", items=[plex.fetchItem(album.rating_key)])
    assert [i.ratingKey for i in playlist.items()] == [
        t.rating_key for t in library.tracks_of_album(album.rating_key)
    ]


def test_smart_playlists_are_refused(plex: PlexServer) -> None:
    with pytest.raises(BadRequest):
        plex.createPlaylist("Smart", section="Music", smart=True, libtype="track")


def test_token_is_required(fake_plex: FakePlexServer) -> None:
    url = f"{fake_plex.url}/library/sections"
    assert requests.get(url, timeout=5).status_code == 401
    assert requests.get(url, headers={"X-Plex-Token": "wrong"}, timeout=5).status_code == 401
    assert requests.get(url, params={"X-Plex-Token": TOKEN}, timeout=5).status_code == 200
    assert requests.get(f"{fake_plex.url}/identity", timeout=5).status_code == 200
    with pytest.raises(Unauthorized):
        PlexServer(fake_plex.url, "wrong-token")
    assert fake_plex.stats().by_status[401] == 3


def test_unknown_routes_and_items_are_not_found(plex: PlexServer) -> None:
    with pytest.raises(NotFound):
        plex.fetchItem(999_999_999)
    with pytest.raises(NotFound):
        plex.query("/no/such/route")


def test_filter_choices_and_tag_items(plex: PlexServer, library: Library) -> None:
    section = plex.library.sectionByID(1)
    choices = section.listFilterChoices("genre", libtype="album")
    assert {c.title for c in choices} == {g for a in library.albums for g in a.genres}
    assert all(c.key.isdigit() for c in choices)


def test_playlist_edit_with_plain_fields(plex: PlexServer, fake_plex: FakePlexServer) -> None:
    playlist = plex.createPlaylist(
        "Plain", items=[plex.fetchItem(fake_plex.library.tracks[0].rating_key)]
    )
    playlist.edit(title="Plainer", summary="edited")
    view = fake_plex.playlist_titled("Plainer")
    assert view is not None
    assert view.summary == "edited"


def test_metadata_by_keys_pages_but_reports_no_total_size(
    plex: PlexServer, fake_plex: FakePlexServer, library: Library
) -> None:
    # A real server answers /library/metadata/<ids> with `size` only: plexapi's fetchItems,
    # which pages by 100 and trusts totalSize, silently keeps the first page of 150 keys.
    keys = [t.rating_key for t in library.tracks[:150]]
    response = requests.get(
        f"{fake_plex.url}/library/metadata/{','.join(map(str, keys))}",
        headers={"X-Plex-Token": TOKEN, "X-Plex-Container-Size": "100"},
        timeout=5,
    )
    head = response.text.split(">", 2)[1]
    assert 'size="100"' in head and "totalSize" not in head and "offset" not in head
    assert len(plex.fetchItems(keys)) == 100


def test_history_of_removed_tracks_has_no_keys(fake_plex: FakePlexServer, library: Library) -> None:
    removed = next(p for p in reversed(library.plays) if library.item(p.track_key) is None)
    response = requests.get(
        f"{fake_plex.url}/status/sessions/history/all",
        params={"viewedAt>": str(int(removed.viewed_at.timestamp())), "sort": "viewedAt:asc"},
        headers={"X-Plex-Token": TOKEN},
        timeout=5,
    )
    entry = next(
        e
        for e in ElementTree.fromstring(response.content)
        if e.get("historyKey") == f"/status/sessions/history/{removed.history_id}"
    )
    track = library.removed(removed.track_key)
    assert track is not None
    assert entry.get("ratingKey") is None and entry.get("key") is None
    assert (entry.get("title"), entry.get("type")) == (track.title, "track")


def test_real_track_shapes_reach_plexapi(plex: PlexServer, library: Library) -> None:
    credited = next(t for t in library.tracks if " feat. " in t.original_title)
    versions = next(t for t in library.tracks if t.media == (1, 1))
    split = next(t for t in library.tracks if t.media == (2,))
    undated = next(t for t in library.tracks if t.added_at is None)
    plain = next(t for t in library.tracks if not t.original_title)
    by_key = {
        i.ratingKey: i
        for i in plex.fetchItems(
            [t.rating_key for t in (credited, versions, split, undated, plain)]
        )
    }
    assert by_key[credited.rating_key].originalTitle == credited.original_title
    assert by_key[plain.rating_key].originalTitle is None
    assert [m.container for m in by_key[versions.rating_key].media] == ["flac", "mp3"]
    (media,) = by_key[split.rating_key].media
    assert len(media.parts) == 2
    assert by_key[undated.rating_key].addedAt is None


def test_a_hidden_section_is_served_like_any_other(plex: PlexServer, library: Library) -> None:
    (hidden,) = library.extra_sections
    section = plex.library.sectionByID(hidden.section_id)
    assert {a.ratingKey for a in section.searchArtists()} == {a.rating_key for a in hidden.artists}
    track = hidden.tracks[0]
    assert plex.fetchItem(track.rating_key).librarySectionTitle == "Hörbücher"
    playlist = plex.createPlaylist(
        "Both", items=plex.fetchItems([track.rating_key, library.tracks[0].rating_key])
    )
    assert [i.ratingKey for i in playlist.items()] == [
        track.rating_key,
        library.tracks[0].rating_key,
    ]
