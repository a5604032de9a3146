"""Plex Media Server XML for the fake: item elements and MediaContainer documents.

The element and attribute names follow what plexapi 4.18 reads (audio.py, library.py,
playlist.py, base.py). Two rules mirror a real server: a *listing* (section ``/all``,
``/children``, ``/allLeaves``, playlist items) carries at most the first two ``Genre`` tags and
no ``Style``/``Mood``; *full metadata* (``/library/metadata/1,2``) carries every tag. Dates are
epoch seconds. Attributes that a real server omits when empty (``userRating``,
``lastViewedAt``, ``viewCount`` of 0, ``addedAt`` of some tracks, ``originalTitle`` when the
track artist is the album artist) are omitted here too. One ``PlexXml`` serves one section.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING
from xml.etree.ElementTree import Element, SubElement
from xml.sax.saxutils import escape, quoteattr

from enrichment.fakes.models import Album, Artist, Track
from enrichment.fakes.vocab import TAG_IDS

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from datetime import datetime

    from enrichment.fakes.models import Item, Library, Play, RemovedTrack
    from enrichment.fakes.plex_playlists import PlaylistView

XML_CONTENT_TYPE = "text/xml;charset=utf-8"
SERVER_VERSION = "1.41.3.9314-a0bfb8370"
LISTING_GENRES = 2
CACHE_ITEMS = 30_000


def epoch(value: datetime) -> str:
    """Epoch seconds as Plex writes them."""
    return str(int(value.timestamp()))


def document(children: Iterable[bytes], attrs: Mapping[str, object]) -> bytes:
    """A complete ``<MediaContainer>`` document around pre-serialised child elements."""
    head = " ".join(f"{name}={quoteattr(str(value))}" for name, value in attrs.items())
    opening = f'<?xml version="1.0" encoding="UTF-8"?>\n<MediaContainer {head}>'
    return b"".join((opening.encode("utf-8"), *children, b"</MediaContainer>\n"))


_ATTR_ENTITIES = {'"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"}


def _render(element: Element, out: list[str]) -> None:
    out.append(f"<{element.tag}")
    for name, value in element.attrib.items():
        out.append(f' {name}="{escape(value, _ATTR_ENTITIES)}"')
    if len(element):
        out.append(">")
        for child in element:
            _render(child, out)
        out.append(f"</{element.tag}>")
    else:
        out.append(" />")


def serialise(element: Element) -> bytes:
    """One element (attributes and child elements, no text) as a UTF-8 XML fragment.

    Hand-rolled because ``ElementTree.tostring`` costs ~140 us per track, which made a
    100k-track walk spend most of its time in the fake rather than in the client.
    """
    out: list[str] = []
    _render(element, out)
    return "".join(out).encode("utf-8")


def _set(element: Element, name: str, value: object) -> None:
    if value is not None:
        element.set(name, str(value))


def _tags(element: Element, kind: str, names: Iterable[str]) -> None:
    tag = kind.capitalize()
    for name in names:
        tag_id = TAG_IDS.get((kind, name), 0)
        SubElement(element, tag, {"id": str(tag_id), "filter": f"{kind}={tag_id}", "tag": name})


class PlexXml:
    """Builds (and caches) the XML of a library's items for one fake server."""

    def __init__(self, library: Library, machine_identifier: str) -> None:
        self.library = library
        self.machine_identifier = machine_identifier
        self.section_key = f"/library/sections/{library.section_id}"
        self.section_uuid = f"{machine_identifier[:8]}-0000-4000-8000-{library.section_id:012d}"
        self._cache: dict[tuple[int, bool, bool], bytes] = {}
        self._lock = threading.Lock()

    # -- items -----------------------------------------------------------------------------

    def item(self, item: Item, *, full: bool, guids: bool = False) -> bytes:
        """The serialised element of an artist, album or track.

        The library is frozen, so fragments are cached; the cache is bounded because a
        100k-track walk would otherwise pin hundreds of megabytes.
        """
        cache_key = (item.rating_key, full, guids)
        cached = self._cache.get(cache_key)
        if cached is None:
            cached = serialise(self.element(item, full=full, guids=guids))
            with self._lock:
                if len(self._cache) < CACHE_ITEMS:
                    self._cache[cache_key] = cached
        return cached

    def element(self, item: Item, *, full: bool, guids: bool = False) -> Element:
        """A fresh element for an item; ``full`` selects full metadata over a listing entry."""
        if isinstance(item, Artist):
            element = self._artist(item)
        elif isinstance(item, Album):
            element = self._album(item)
        else:
            element = self._track(item, full=full)
        if full:
            for attr in ("librarySectionID", "librarySectionKey", "librarySectionTitle"):
                element.set(attr, self._section_attrs()[attr])
        genres = item.genres if full else item.genres[:LISTING_GENRES]
        _tags(element, "genre", genres)
        if full:
            _tags(element, "style", getattr(item, "styles", ()))
            _tags(element, "mood", item.moods)
        if (full or guids) and isinstance(item, Artist):
            SubElement(element, "Guid", id=f"mbid://{item.mbid}")
        return element

    def _section_attrs(self) -> dict[str, str]:
        lib = self.library
        return {
            "librarySectionID": str(lib.section_id),
            "librarySectionKey": self.section_key,
            "librarySectionTitle": lib.section_title,
        }

    def _common(self, element: Element, item: Item) -> None:
        _set(element, "summary", "")
        _set(element, "userRating", item.user_rating)
        if item.last_rated_at is not None:
            element.set("lastRatedAt", epoch(item.last_rated_at))
        if item.view_count:
            element.set("viewCount", str(item.view_count))
        if item.last_viewed_at is not None:
            element.set("lastViewedAt", epoch(item.last_viewed_at))
        if item.added_at is not None:
            element.set("addedAt", epoch(item.added_at))
        element.set("updatedAt", epoch(item.updated_at))

    def _artist(self, artist: Artist) -> Element:
        rk = artist.rating_key
        element = Element("Directory")
        element.attrib.update(
            ratingKey=str(rk),
            key=f"/library/metadata/{rk}/children",
            guid=artist.guid,
            type="artist",
            title=artist.title,
            index="1",
            thumb=f"/library/metadata/{rk}/thumb/{epoch(artist.updated_at)}",
            art=f"/library/metadata/{rk}/art/{epoch(artist.updated_at)}",
        )
        if artist.title_sort != artist.title:
            element.set("titleSort", artist.title_sort)
        self._common(element, artist)
        return element

    def _album(self, album: Album) -> Element:
        rk, artist = album.rating_key, self.library.artist(album.artist_key)
        viewed = sum(1 for t in self.library.tracks_of_album(rk) if t.view_count)
        element = Element("Directory")
        element.attrib.update(
            ratingKey=str(rk),
            key=f"/library/metadata/{rk}/children",
            parentRatingKey=str(artist.rating_key),
            guid=album.guid,
            parentGuid=artist.guid,
            type="album",
            title=album.title,
            parentKey=f"/library/metadata/{artist.rating_key}",
            parentTitle=artist.title,
            index="1",
            year=str(album.year),
            originallyAvailableAt=f"{album.year}-01-01",
            leafCount=str(album.leaf_count),
            viewedLeafCount=str(viewed),
            thumb=f"/library/metadata/{rk}/thumb/{epoch(album.updated_at)}",
            parentThumb=f"/library/metadata/{artist.rating_key}/thumb/{epoch(artist.updated_at)}",
        )
        self._common(element, album)
        return element

    def _track(self, track: Track, *, full: bool) -> Element:
        album = self.library.album(track.album_key)
        artist = self.library.artist(track.artist_key)
        rk = track.rating_key
        element = Element("Track")
        element.attrib.update(
            ratingKey=str(rk),
            key=f"/library/metadata/{rk}",
            parentRatingKey=str(album.rating_key),
            grandparentRatingKey=str(artist.rating_key),
            guid=track.guid,
            parentGuid=album.guid,
            grandparentGuid=artist.guid,
            type="track",
            title=track.title,
            grandparentKey=f"/library/metadata/{artist.rating_key}",
            parentKey=f"/library/metadata/{album.rating_key}",
            grandparentTitle=artist.title,
            parentTitle=album.title,
        )
        if track.original_title:
            element.set("originalTitle", track.original_title)
        element.attrib.update(
            index=str(track.index),
            parentIndex=str(track.disc),
            parentYear=str(album.year),
            thumb=f"/library/metadata/{album.rating_key}/thumb/{epoch(album.updated_at)}",
            parentThumb=f"/library/metadata/{album.rating_key}/thumb/{epoch(album.updated_at)}",
            grandparentThumb=f"/library/metadata/{artist.rating_key}/thumb/{epoch(artist.updated_at)}",
            duration=str(track.duration_ms),
        )
        self._common(element, track)
        self._media(element, track, full=full)
        return element

    @staticmethod
    def _media(element: Element, track: Track, *, full: bool) -> None:
        """One ``<Media>`` per version (FLAC, then MP3), each with its ``<Part>`` files."""
        rk, stamp = track.rating_key, epoch(track.updated_at)
        for version, parts in enumerate(track.media):
            codec, bitrate = ("flac", "1411") if version == 0 else ("mp3", "320")
            media = SubElement(
                element,
                "Media",
                id=str(rk * 10 + version),
                duration=str(track.duration_ms),
                bitrate=bitrate,
                audioChannels="2",
                audioCodec=codec,
                container=codec,
            )
            for n in range(parts):
                part_id = str(rk * 100 + version * 10 + n)
                part = SubElement(
                    media,
                    "Part",
                    id=part_id,
                    key=f"/library/parts/{part_id}/{stamp}/file.{codec}",
                    duration=str(track.duration_ms // parts),
                    container=codec,
                )
                if full:
                    stem = track.file.rsplit(".", 1)[0]
                    suffix = f" (part {n + 1})" if parts > 1 else ""
                    part.set("file", f"{stem}{suffix}.{codec}")

    # -- history and playlists -------------------------------------------------------------

    def history_entry(self, play: Play) -> bytes:
        """A history row: a real server gives parent *keys* here but no parent rating keys,
        and for a track removed since, no keys at all (titles and the moment only)."""
        removed = self.library.removed(play.track_key)
        if removed is not None:
            return self._removed_entry(play, removed)
        track = self.library.track(play.track_key)
        album = self.library.album(track.album_key)
        artist = self.library.artist(track.artist_key)
        element = Element("Track")
        element.attrib.update(
            historyKey=f"/status/sessions/history/{play.history_id}",
            key=f"/library/metadata/{track.rating_key}",
            ratingKey=str(track.rating_key),
            librarySectionID=str(self.library.section_id),
            parentKey=f"/library/metadata/{album.rating_key}",
            grandparentKey=f"/library/metadata/{artist.rating_key}",
            title=track.title,
            parentTitle=album.title,
            grandparentTitle=artist.title,
            type="track",
            thumb=f"/library/metadata/{album.rating_key}/thumb/{epoch(album.updated_at)}",
            index=str(track.index),
            parentIndex=str(track.disc),
            originallyAvailableAt=f"{album.year}-01-01",
            viewedAt=epoch(play.viewed_at),
            accountID=str(play.account_id),
            deviceID=str(play.device_id),
        )
        return serialise(element)

    def _removed_entry(self, play: Play, removed: RemovedTrack) -> bytes:
        element = Element("Track")
        element.attrib.update(
            historyKey=f"/status/sessions/history/{play.history_id}",
            librarySectionID=str(self.library.section_id),
            title=removed.title,
            parentTitle=removed.album_title,
            grandparentTitle=removed.artist_title,
            type="track",
            viewedAt=epoch(play.viewed_at),
            accountID=str(play.account_id),
            deviceID=str(play.device_id),
        )
        return serialise(element)

    def playlist(self, view: PlaylistView, *, duration: int) -> bytes:
        """A ``<Playlist>`` element (key ends in /items, as a real server sends it);
        ``duration`` is its items' total in milliseconds."""
        rk = view.rating_key
        element = Element("Playlist")
        element.attrib.update(
            ratingKey=str(rk),
            key=f"/playlists/{rk}/items",
            guid=view.guid,
            type="playlist",
            title=view.title,
            summary=view.summary,
            smart="0",
            playlistType=view.playlist_type,
            composite=f"/playlists/{rk}/composite/{view.updated_at}",
            icon="playlist://image.smart" if view.smart else "",
            leafCount=str(len(view.items)),
            duration=str(duration),
            durationInSeconds=str(duration // 1000),
            addedAt=str(view.added_at),
            updatedAt=str(view.updated_at),
        )
        if not element.get("icon"):
            del element.attrib["icon"]
        return serialise(element)

    def playlist_item(self, track: Track, playlist_item_id: int) -> bytes:
        """A track inside a playlist: listing data plus its ``playlistItemID``."""
        element = self.element(track, full=False)
        element.set("playlistItemID", str(playlist_item_id))
        for attr, value in self._section_attrs().items():
            element.set(attr, value)
        return serialise(element)

    # -- server-level documents ------------------------------------------------------------

    def section_directory(self) -> bytes:
        """The music section as listed by ``/library/sections``."""
        lib = self.library
        created = epoch(min((a.added_at for a in lib.artists), default=lib.now))
        element = Element("Directory")
        element.attrib.update(
            allowSync="1",
            art="/:/resources/artist-fanart.jpg",
            composite=f"{self.section_key}/composite/{epoch(lib.now)}",
            filters="1",
            refreshing="0",
            thumb="/:/resources/artist.png",
            key=str(lib.section_id),
            type="artist",
            title=lib.section_title,
            agent="tv.plex.agents.music",
            scanner="Plex Music",
            language="en",
            uuid=self.section_uuid,
            updatedAt=epoch(lib.now),
            createdAt=created,
            scannedAt=epoch(lib.now),
            content="1",
            directory="1",
            hidden="1" if lib.section_hidden else "0",
        )
        SubElement(element, "Location", id=str(lib.section_id), path=f"/music/{lib.section_id}")
        return serialise(element)

    def listing_attrs(self, view_group: str) -> dict[str, object]:
        """MediaContainer attributes of a section listing."""
        lib = self.library
        return {
            "allowSync": 1,
            "art": "/:/resources/artist-fanart.jpg",
            "identifier": "com.plexapp.plugins.library",
            "librarySectionID": lib.section_id,
            "librarySectionTitle": lib.section_title,
            "librarySectionUUID": self.section_uuid,
            "mediaTagPrefix": "/system/bundle/media/flags/",
            "mediaTagVersion": "1700000000",
            "title1": lib.section_title,
            "viewGroup": view_group,
        }
