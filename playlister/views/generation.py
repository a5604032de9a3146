"""A generation's page — its tracks in order, why each is there, what changed since the one
before, the playlist's history — and its exports (M3U8, CSV)."""

from __future__ import annotations

import csv
import io
import re
from typing import TYPE_CHECKING

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from jobs.views.access import page_login_required
from playlister import present, selectors
from playlister.models import Playlist

if TYPE_CHECKING:
    from django.http import HttpRequest


def _generation(pk: int) -> Playlist:
    found = Playlist.objects.select_related("managed").filter(pk=pk).first()
    if found is None:
        raise Http404(f"No playlist generation with id {pk}.")
    return found


@page_login_required
@require_GET
def generation(request: HttpRequest, pk: int) -> HttpResponse:
    playlist = _generation(pk)
    tracks = selectors.tracks_of(playlist)
    diff = selectors.difference(playlist, [t["rating_key"] for t in tracks])
    managed = playlist.managed
    context = {
        "playlist": playlist,
        "view": present.GenerationView(playlist),
        "rows": present.track_rows(tracks, diff),
        "diff": diff,
        "history": selectors.history_of(playlist),
        "plex_url": selectors.plex_web_url(
            managed.plex_machine_identifier if managed else "", playlist.plex_key
        ),
    }
    return render(request, "playlister/generation.html", context)


def _filename(playlist: Playlist, extension: str) -> str:
    stem = re.sub(r"[^\w.-]+", "-", playlist.title, flags=re.ASCII).strip("-") or "playlist"
    return f"{stem}-{playlist.generated_at:%Y-%m-%d}.{extension}"


def _download(body: str, *, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _line(text: str) -> str:
    """One line of an M3U entry: no line breaks inside."""
    return " ".join(text.split())


@page_login_required
@require_GET
def export_m3u(request: HttpRequest, pk: int) -> HttpResponse:
    """Extended M3U (UTF-8): ``#EXTINF:<seconds>,<artist> - <title>`` and the file as Plex
    has it; a track whose file Plex did not name is a comment, so players skip it."""
    playlist = _generation(pk)
    lines = ["#EXTM3U", f"#PLAYLIST:{_line(playlist.title)}"]
    for t in playlist.tracks.order_by("position"):
        lines.append(f"#EXTINF:{round(t.duration_ms / 1000)},{_line(t.artist)} - {_line(t.title)}")
        lines.append(
            _line(t.file) if t.file else f"# no file known (Plex rating key {t.rating_key})"
        )
    return _download(
        "\n".join(lines) + "\n",
        content_type="audio/x-mpegurl; charset=utf-8",
        filename=_filename(playlist, "m3u8"),
    )


def _cell(value: object) -> object:
    """A text that a spreadsheet would run as a formula is quoted (OWASP's CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


CSV_COLUMNS = [
    "position", "title", "artist", "album", "genres", "rating", "plays", "last_played",
    "duration_s", "score", "pool", "pick", "relaxed", "file", "rating_key",
]  # fmt: skip


@page_login_required
@require_GET
def export_csv(request: HttpRequest, pk: int) -> HttpResponse:
    playlist = _generation(pk)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for t in playlist.tracks.order_by("position"):
        why = t.why or {}
        row = [
            t.position,
            t.title,
            t.artist,
            t.album,
            "; ".join(t.genres or []),
            "" if t.user_rating is None else t.user_rating,
            t.view_count,
            t.last_viewed_at.isoformat() if t.last_viewed_at else "",
            round(t.duration_ms / 1000),
            round(t.score, 2),
            why.get("pool", ""),
            why.get("pick", ""),
            why.get("relaxed", ""),
            t.file,
            t.rating_key,
        ]
        writer.writerow(_cell(v) for v in row)
    return _download(
        out.getvalue(), content_type="text/csv; charset=utf-8", filename=_filename(playlist, "csv")
    )
