"""The Schedules page: every schedule, its next and last runs; enable, disable, edit, run now.

Each control posts to its own URL and gets the schedule's row back (HTMX swaps it in place);
without HTMX it redirects to the page. Bad input is a 400 with the row and a message saying
what is wrong, and changes nothing. "Run now" queues the job with trigger ``web``: a person
asked for it, so it runs with a person's priority, ahead of scheduled work.

The last-run cell polls while the schedule's job is queued or running, and stops (286)
when it has ended — the rest of the row holds a form and never refreshes on its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseStopPolling

from jobs.models import Trigger
from jobs.registry import JobError
from jobs.schedules import cron
from jobs.schedules import services as schedules
from jobs.schedules.present import schedule_views
from jobs.views.access import page_login_required

if TYPE_CHECKING:
    from jobs.models import JobRun, JobSchedule
    from jobs.schedules.present import ScheduleView
    from jobs.views.access import HtmxHttpRequest

PAGE = "jobs/schedules.html"


class CronForm(forms.Form):
    # Not required: an empty expression gets the same explanation as any other bad one.
    cron = forms.CharField(label="Cron expression", max_length=200, required=False)

    def clean_cron(self) -> str:
        try:
            return cron.normalize(self.cleaned_data["cron"])
        except cron.CronError as exc:
            raise forms.ValidationError(str(exc)) from None


def _get(name: str) -> JobSchedule:
    try:
        return schedules.get(name)
    except schedules.UnknownSchedule as exc:
        raise Http404(str(exc)) from None


def _page_context(**extra: Any) -> dict[str, Any]:
    return {"views": schedule_views(), "tz": schedules.zone().key, **extra}


@page_login_required
@require_GET
def page(request: HtmxHttpRequest) -> HttpResponse:
    return render(request, PAGE, _page_context())


def _answer(
    request: HtmxHttpRequest,
    name: str,
    *,
    error: str = "",
    cron_value: str | None = None,
    started: JobRun | None = None,
) -> HttpResponse:
    """The schedule's row (HTMX) or the page (a plain form post); 400 when ``error``."""
    status = 400 if error else 200
    if not request.htmx:
        if not error:
            return redirect("jobs:schedules")
        return render(request, PAGE, _page_context(error=error), status=status)
    view: ScheduleView = schedule_views([_get(name)])[0]
    context = {"s": view, "error": error, "cron_value": cron_value, "started": started}
    response = render(request, f"{PAGE}#schedule_row", context, status=status)
    if started is not None:
        response["HX-Trigger"] = "jobs-changed"
    return response


@page_login_required
@require_POST
def enable(request: HtmxHttpRequest, name: str) -> HttpResponse:
    schedules.set_enabled(_get(name).name, True)
    return _answer(request, name)


@page_login_required
@require_POST
def disable(request: HtmxHttpRequest, name: str) -> HttpResponse:
    schedules.set_enabled(_get(name).name, False)
    return _answer(request, name)


@page_login_required
@require_POST
def edit(request: HtmxHttpRequest, name: str) -> HttpResponse:
    """A new cron expression; its next runs come back with the row."""
    row = _get(name)
    form = CronForm(request.POST)
    if not form.is_valid():
        error = " ".join(str(e) for e in form.errors.get("cron", []))
        return _answer(request, row.name, error=error, cron_value=request.POST.get("cron", ""))
    schedules.set_cron(row.name, form.cleaned_data["cron"])
    return _answer(request, row.name)


@page_login_required
@require_POST
def run_now(request: HtmxHttpRequest, name: str) -> HttpResponse:
    row = _get(name)
    try:
        job = schedules.run_now(row.name, trigger=Trigger.WEB)
    except JobError as exc:  # parameters that no longer fit the job type
        return _answer(request, row.name, error=str(exc))
    return _answer(request, row.name, started=job)


@page_login_required
@require_GET
def last_run(request: HtmxHttpRequest, name: str) -> HttpResponse:
    """The last-run cell; polled while the schedule's job is queued or running."""
    view = schedule_views([_get(name)])[0]
    template = f"{PAGE}#last_run"
    if view.last_job_active:
        return render(request, template, {"s": view})
    return HttpResponseStopPolling(render_to_string(template, {"s": view}, request=request))
