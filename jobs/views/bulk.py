"""Bulk actions over the runs a history filter selects (issue 15): "retry failed" and
"cancel queued".

The history page's buttons ask first: ``GET /jobs/bulk/<action>?<filters>`` answers a
confirmation that says how many runs the action would touch (counted up to ``BULK_LIMIT``
+ 1: a bounded query whatever the table's size). Confirming posts the same filters to
``POST /jobs/bulk/<action>``, which does it for at most ``BULK_LIMIT`` runs, newest first,
and says what happened. Scripts may post directly (form data or a JSON object of filters)
and get JSON back. A filter that does not parse is refused (400), never ignored: ignoring it
would widen what the action touches.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET
from django_htmx.http import trigger_client_event

from jobs import services
from jobs.models import Trigger
from jobs.views.access import api_endpoint, json_error, page_login_required
from jobs.views.api import JOBS_CHANGED
from jobs.views.pages import FILTER_FIELDS, HistoryFilterForm, history_filters

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from jobs.models import JobRun
    from jobs.queries import HistoryFilters
    from jobs.views.access import HtmxHttpRequest


class Candidates(Protocol):
    def __call__(self, *, filters: HistoryFilters) -> QuerySet[JobRun]: ...


@dataclass(frozen=True)
class Action:
    name: str
    verb: str  # "Retry"
    noun: str  # "failed runs"
    candidates: Candidates


ACTIONS = {
    "retry-failed": Action(
        "retry-failed", "Retry", "failed runs not retried yet", services.retry_candidates
    ),
    "cancel-queued": Action("cancel-queued", "Cancel", "queued runs", services.cancel_candidates),
}


def _action(name: str) -> Action:
    try:
        return ACTIONS[name]
    except KeyError:
        raise Http404(f"No bulk action {name!r}.") from None


def _filter_form(data: Any) -> HistoryFilterForm:
    return HistoryFilterForm({k: v for k, v in data.items() if k in FILTER_FIELDS})


def _described(form: HistoryFilterForm) -> str:
    """``Type: Warm the artist cache, Status: Failed``: the filter in words."""
    parts = []
    for name in FILTER_FIELDS:
        value = form.cleaned_data.get(name)
        if not value:
            continue
        field = form.fields[name]
        shown = dict(getattr(field, "choices", ())).get(value, value)
        parts.append(f"{field.label}: {shown}")
    return ", ".join(parts)


@page_login_required
@require_GET
def bulk_confirm(request: HtmxHttpRequest, action: str) -> HttpResponse:
    """How many runs ``action`` would touch with the history page's filter; asks to confirm."""
    chosen = _action(action)
    form = _filter_form(request.GET)
    if not form.is_valid():
        return render(request, "jobs/history.html#bulk_invalid", {"form": form}, status=400)
    found = chosen.candidates(filters=history_filters(form))[: services.BULK_LIMIT + 1].count()
    context = {
        "action": chosen,
        "count": min(found, services.BULK_LIMIT),
        "more": found > services.BULK_LIMIT,
        "limit": services.BULK_LIMIT,
        "described": _described(form),
        "hidden": [(k, v) for k, v in request.GET.items() if k in FILTER_FIELDS and v],
        "post_url": reverse("jobs:bulk", args=[chosen.name]),
    }
    return render(request, "jobs/history.html#bulk_confirm", context)


def _posted(request: HtmxHttpRequest) -> dict[str, Any] | None:
    """The posted filters: form data or a JSON object (None: a body that is neither)."""
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"{}")
        except ValueError:
            return None
        return data if isinstance(data, dict) else None
    return dict(request.POST.items())


@api_endpoint(["POST"])
def bulk_action(request: HtmxHttpRequest, action: str) -> HttpResponse:
    """Do ``action`` for the runs the posted filter selects (at most ``BULK_LIMIT``)."""
    chosen = ACTIONS.get(action)
    if chosen is None:
        return json_error(404, f"no bulk action {action!r} (known: {', '.join(ACTIONS)})")
    data = _posted(request)
    if data is None:
        return json_error(400, "Send the filters as form data or as a JSON object.")
    form = _filter_form(data)
    if not form.is_valid():
        if request.htmx:
            return render(request, "jobs/history.html#bulk_invalid", {"form": form}, status=400)
        return json_error(
            400,
            "Invalid filter: nothing was done.",
            fields={name: [str(e) for e in errs] for name, errs in form.errors.items()},
        )
    filters = history_filters(form)
    body: dict[str, Any]
    if chosen.name == "retry-failed":
        retried = services.bulk_retry_failed(filters=filters, trigger=Trigger.WEB)
        body = {
            "queued": retried.queued,
            "deduplicated": retried.deduplicated,
            "skipped": retried.skipped,
            "limited": retried.limited,
        }
    else:
        cancelled = services.bulk_cancel_queued(filters=filters)
        body = {"cancelled": cancelled.cancelled, "limited": cancelled.limited}
    if not request.htmx:
        return JsonResponse(body)
    response = render(
        request,
        "jobs/history.html#bulk_done",
        {"action": chosen, "done": body, "limit": services.BULK_LIMIT},
    )
    return trigger_client_event(response, JOBS_CHANGED)
