"""Custom playlists on the web: list, create, enable/disable, delete; recent playlists."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from jobs.views.access import page_login_required
from playlister.forms import CustomPlaylistForm
from playlister.models import CustomPlaylist, Playlist

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse

TEMPLATE = "playlister/playlists.html"


def _context(form: CustomPlaylistForm) -> dict[str, object]:
    return {
        "form": form,
        "customs": CustomPlaylist.objects.all(),
        "recent": Playlist.objects.filter(dry_run=False).order_by("-generated_at")[:20],
    }


@page_login_required
@require_http_methods(["GET", "POST"])
def playlists(request: HttpRequest) -> HttpResponse:
    """The page; a POST creates a custom playlist (400 with the form's errors if invalid)."""
    if request.method == "POST":
        form = CustomPlaylistForm(request.POST)
        if form.is_valid():
            form.save()
            if getattr(request, "htmx", False):
                return render(request, f"{TEMPLATE}#customs", _context(CustomPlaylistForm()))
            return redirect("playlister:playlists")
        partial = f"{TEMPLATE}#customs" if getattr(request, "htmx", False) else TEMPLATE
        return render(request, partial, _context(form), status=400)
    return render(request, TEMPLATE, _context(CustomPlaylistForm()))


@page_login_required
@require_POST
def toggle(request: HttpRequest, pk: int) -> HttpResponse:
    custom = get_object_or_404(CustomPlaylist, pk=pk)
    # One conditional UPDATE: two people toggling at once cannot both flip it back.
    CustomPlaylist.objects.filter(pk=pk, enabled=custom.enabled).update(enabled=not custom.enabled)
    return _after_change(request)


@page_login_required
@require_POST
def delete(request: HttpRequest, pk: int) -> HttpResponse:
    get_object_or_404(CustomPlaylist, pk=pk).delete()
    return _after_change(request)


def _after_change(request: HttpRequest) -> HttpResponse:
    if getattr(request, "htmx", False):
        return render(request, f"{TEMPLATE}#customs", _context(CustomPlaylistForm()))
    return redirect("playlister:playlists")
