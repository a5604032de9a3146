"""Custom playlists on the web: create, edit, enable/disable, delete; the genre and mood
pickers (loaded after the page: counting the caches takes longer than the page itself)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from jobs.views.access import page_login_required
from playlister import selectors
from playlister.forms import CustomPlaylistForm
from playlister.models import CustomPlaylist
from playlister.views.cards import TEMPLATE, page_context

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse

    from jobs.views.access import HtmxHttpRequest

EDIT_TEMPLATE = "playlister/custom_edit.html"


def _customs(
    request: HtmxHttpRequest, form: CustomPlaylistForm, *, note: str = "", status: int = 200
) -> HttpResponse:
    context = {"form": form, "customs": CustomPlaylist.objects.all(), "custom_note": note}
    return render(request, f"{TEMPLATE}#customs", context, status=status)


@page_login_required
@require_POST
def create(request: HtmxHttpRequest) -> HttpResponse:
    """Create a custom playlist (400 with the form's errors if invalid, nothing saved)."""
    form = CustomPlaylistForm(request.POST)
    if not form.is_valid():
        if request.htmx:
            return _customs(request, form, status=400)
        return render(request, TEMPLATE, page_context(form=form), status=400)
    custom = form.save()
    return _after_change(
        request, f"Created {custom.name!r}: it is generated with the custom playlists."
    )


@page_login_required
@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, pk: int) -> HttpResponse:
    custom = get_object_or_404(CustomPlaylist, pk=pk)
    if request.method == "POST":
        form = CustomPlaylistForm(request.POST, instance=custom)
        if form.is_valid():
            saved = form.save()
            messages.success(request, f"Saved {saved.name!r}.")
            return redirect("playlister:playlists")
        return render(request, EDIT_TEMPLATE, {"form": form, "custom": custom}, status=400)
    form = CustomPlaylistForm(instance=custom)
    return render(request, EDIT_TEMPLATE, {"form": form, "custom": custom})


@page_login_required
@require_POST
def toggle(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    custom = get_object_or_404(CustomPlaylist, pk=pk)
    # One conditional UPDATE: two people toggling at once cannot both flip it back.
    CustomPlaylist.objects.filter(pk=pk, enabled=custom.enabled).update(enabled=not custom.enabled)
    return _after_change(request, f"{'Disabled' if custom.enabled else 'Enabled'} {custom.name!r}.")


@page_login_required
@require_POST
def delete(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    custom = get_object_or_404(CustomPlaylist, pk=pk)
    custom.delete()
    return _after_change(
        request, f"Deleted {custom.name!r} here; its playlist in Plex stays as it is."
    )


def _after_change(request: HtmxHttpRequest, note: str) -> HttpResponse:
    """The custom playlists' section with ``note`` (the cards refresh on the event), or back
    to the page with it as a message."""
    if request.htmx:
        response = _customs(request, CustomPlaylistForm(), note=note)
        response["HX-Trigger"] = "playlists-changed"
        return response
    messages.success(request, note)
    return redirect("playlister:playlists")


@page_login_required
@require_GET
def tag_choices(request: HttpRequest) -> HttpResponse:
    """The pickers' datalists: genres and moods from the caches, with how many tracks each
    matches."""
    genres, moods = selectors.tag_choices()
    return render(request, f"{TEMPLATE}#tag_choices", {"genres": genres, "moods": moods})
