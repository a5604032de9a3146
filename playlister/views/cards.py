"""The Playlists page and its cards: generate now, preview, and each card's live progress.

A card polls itself every second while its playlist's job is queued or running and stops
(HTTP 286) when none is, showing how the job it followed ended. After a person clicked
Preview, the card sends their browser to the preview's track list when that job ends well
(``HX-Redirect``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseStopPolling

from jobs import services as job_services
from jobs.models import JobRun, JobStatus, Trigger
from jobs.registry import JobError
from jobs.views.access import page_login_required
from playlister import exclusions, selectors
from playlister.forms import CustomPlaylistForm, ExclusionsForm
from playlister.models import CustomPlaylist, Playlist

if TYPE_CHECKING:
    from django.http import HttpRequest

    from jobs.views.access import HtmxHttpRequest

TEMPLATE = "playlister/playlists.html"


def page_context(
    *, form: CustomPlaylistForm | None = None, exclusions_form: ExclusionsForm | None = None
) -> dict[str, Any]:
    rules = exclusions.current_rules()
    customs = list(CustomPlaylist.objects.all())
    return {
        "cards": selectors.cards(customs=customs),
        "form": form or CustomPlaylistForm(),
        "customs": customs,
        "exclusions_form": exclusions_form or ExclusionsForm.for_rules(rules),
        "rules": rules,
        "suggested": exclusions.SUGGESTED,
    }


@page_login_required
@require_http_methods(["GET", "POST"])
def playlists_page(request: HtmxHttpRequest) -> HttpResponse:
    """The page; a POST creates a custom playlist (``custom.create``)."""
    if request.method == "POST":
        from playlister.views.custom import create

        response: HttpResponse = create(request)
        return response
    return render(request, TEMPLATE, page_context())


@page_login_required
@require_GET
def cards_section(request: HttpRequest) -> HttpResponse:
    """Every card, after a custom playlist came or went."""
    return render(request, f"{TEMPLATE}#cards", {"cards": selectors.cards()})


def _card(key: str) -> selectors.Card:
    found = selectors.cards(only=key)
    if not found:
        raise Http404(f"No playlist {key!r}.")
    return found[0]


def _card_response(
    request: HttpRequest,
    card: selectors.Card,
    *,
    follow: int | None = None,
    open_preview: bool = False,
    note: str = "",
    status: int = 200,
) -> HttpResponse:
    if not card.active and follow is not None:
        selectors.show_finished(card, follow)
    context = {"card": card, "note": note, "error": status != 200, "open_preview": open_preview}
    if card.active or status != 200:
        return render(request, f"{TEMPLATE}#card", context, status=status)
    response = HttpResponseStopPolling(
        render_to_string(f"{TEMPLATE}#card", context, request=request)
    )
    preview = _finished_preview(card.key, follow) if open_preview else None
    if preview is not None:
        response["HX-Redirect"] = reverse("playlister:generation", args=[preview.pk])
    return response


def _finished_preview(key: str, job_id: int | None) -> Playlist | None:
    """The preview the followed job made, once it ended well."""
    if job_id is None:
        return None
    job = JobRun.objects.filter(pk=job_id, status=JobStatus.SUCCESS).only("params").first()
    if job is None or not (job.params or {}).get("dry_run"):
        return None
    return (
        Playlist.objects.filter(job_id=job_id, dry_run=True, managed__key=key)
        .order_by("-id")
        .first()
    )


@page_login_required
@require_GET
def card(request: HtmxHttpRequest, key: str) -> HttpResponse:
    """One card, polled while its playlist's job runs; ``?follow=<job id>`` names that job,
    so that the last answer shows how it ended (and a preview's end opens the preview)."""
    follow = request.GET.get("follow", "")
    return _card_response(
        request,
        _card(key),
        follow=int(follow) if follow.isascii() and follow.isdigit() and len(follow) < 19 else None,
        open_preview=request.GET.get("open") == "1",
    )


def _start(request: HtmxHttpRequest, key: str, *, dry_run: bool) -> HttpResponse:
    found = _card(key)
    try:
        job = job_services.enqueue(
            job_type=found.job_type, params=found.params(dry_run=dry_run), trigger=Trigger.WEB
        )
    except JobError as exc:
        if not request.htmx:
            return HttpResponse(str(exc), status=400, content_type="text/plain")
        return _card_response(request, found, note=str(exc), status=400)
    if not request.htmx:
        return redirect("playlister:playlists")
    note = (
        f"Already {job.status}: job #{job.pk}."
        if job.deduplicated
        else f"{'Preview' if dry_run else 'Generation'} queued: job #{job.pk}."
    )
    # The preview this person asked for opens when it is ready (not one someone else started).
    response = _card_response(
        request, _card(key), note=note, open_preview=dry_run and not job.deduplicated
    )
    response["HX-Trigger"] = "jobs-changed"
    return response


@page_login_required
@require_POST
def generate(request: HtmxHttpRequest, key: str) -> HttpResponse:
    """Generate this playlist now (a ``playlist`` job, or ``custom-playlists`` for it alone)."""
    return _start(request, key, dry_run=False)


@page_login_required
@require_POST
def preview(request: HtmxHttpRequest, key: str) -> HttpResponse:
    """Choose this playlist's tracks without writing to Plex; the card opens the result."""
    return _start(request, key, dry_run=True)
