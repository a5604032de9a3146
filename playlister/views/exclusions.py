"""The exclusions card: save the rules (the page's then win over the settings), or go back
to the settings' rules."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from jobs.views.access import page_login_required
from playlister import exclusions
from playlister.forms import ExclusionsForm
from playlister.views.cards import TEMPLATE

if TYPE_CHECKING:
    from django.http import HttpResponse

    from jobs.views.access import HtmxHttpRequest


def _respond(
    request: HtmxHttpRequest, form: ExclusionsForm, *, note: str = "", status: int = 200
) -> HttpResponse:
    if not request.htmx and status == 200:
        return redirect("playlister:playlists")
    context = {
        "exclusions_form": form,
        "rules": exclusions.current_rules(),
        "suggested": exclusions.SUGGESTED,
        "exclusions_note": note,
    }
    return render(request, f"{TEMPLATE}#exclusions", context, status=status)


@page_login_required
@require_POST
def save(request: HtmxHttpRequest) -> HttpResponse:
    """Save the rules; bad input (400) changes nothing and says what to write instead."""
    form = ExclusionsForm(request.POST)
    if not form.is_valid():
        return _respond(request, form, status=400)
    rules = exclusions.save_rules(
        genres=form.cleaned_data["genres"], seasons=form.cleaned_data["seasonal"]
    )
    return _respond(
        request, ExclusionsForm.for_rules(rules), note="Saved: the next playlists follow them."
    )


@page_login_required
@require_POST
def reset(request: HtmxHttpRequest) -> HttpResponse:
    rules = exclusions.reset_rules()
    return _respond(
        request, ExclusionsForm.for_rules(rules), note="Back to the settings' exclusions."
    )
