"""The HTML screens: dashboard, history, job detail, and the partials HTMX polls.

Polling: a live region carries ``hx-trigger="every 1s"`` only while something is queued or
running. When nothing is, its partial answers ``286`` (``HttpResponseStopPolling``) with the
final content and without the trigger, so the browser stops asking. Every control that
changes jobs (start, cancel) answers with an ``HX-Trigger: jobs-changed`` event; the live
regions listen for it and refresh at once, which also restarts their polling.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_GET
from django_htmx.http import HttpResponseStopPolling

from jobs import joblog, queries, registry, selectors, services
from jobs.models import JobRun, JobStatus, Trigger
from jobs.schedules.present import next_scheduled
from jobs.views.access import page_login_required
from jobs.views.present import JobView, format_seconds, job_views, type_label

if TYPE_CHECKING:
    from collections.abc import Mapping

    from jobs.views.access import HtmxHttpRequest

ACTIVE_LIMIT = 50
RECENT_LIMIT = 10
HISTORY_PAGE_SIZE = 50
METRICS_DEFAULT_DAYS = 30
RETRIES_SHOWN = 20


def _respond(
    request: HttpRequest, template: str, context: dict[str, Any], *, live: bool
) -> HttpResponse:
    """A partial that keeps polling while ``live``, or tells HTMX to stop (286)."""
    if live:
        return render(request, template, context)
    return HttpResponseStopPolling(render_to_string(template, context, request=request))


# -- dashboard ---------------------------------------------------------------------------------
def _live_context() -> dict[str, Any]:
    """Everything the dashboard's live region shows: a fixed number of queries, whatever the
    size of ``job_runs`` (active jobs, recent history, and queue stats when there are more
    active jobs than the region lists)."""
    active = queries.active_jobs(limit=ACTIVE_LIMIT)
    recent = queries.recent_finished(limit=RECENT_LIMIT)
    complete = len(active) <= ACTIVE_LIMIT
    return {
        "stats": selectors.queue_stats_of(active) if complete else selectors.queue_stats(),
        "active": job_views(active[:ACTIVE_LIMIT]),
        "more_active": len(active) > ACTIVE_LIMIT,
        "recent": job_views(recent),
        "polling": bool(active),
        "running_count": sum(1 for job in active if job.status == JobStatus.RUNNING),
    }


@dataclass
class StartForm:
    spec: registry.JobType
    form: forms.Form
    started: JobRun | None = None
    # The service's verdict when the form itself found nothing wrong.
    error: str = ""


def _start_form(
    spec: registry.JobType,
    *,
    bound: Mapping[str, Any] | None = None,
    started: JobRun | None = None,
    error: str = "",
) -> StartForm:
    # Ids stay unique with one form per job type on the page.
    auto_id = f"id_{spec.name}_%s"
    form = spec.bind(bound, auto_id=auto_id) if bound is not None else spec.params(auto_id=auto_id)
    if bound is not None and not form.is_valid():
        error = ""  # the fields say it better
    return StartForm(spec=spec, form=form, started=started, error=error)


def render_start_form(
    request: HttpRequest,
    spec: registry.JobType,
    *,
    bound: Mapping[str, Any] | None = None,
    started: JobRun | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    """The start form of one job type, after a submit: its errors, or a fresh form and a
    link to the job that was started."""
    return render(
        request,
        "jobs/dashboard.html#start_form",
        {"start": _start_form(spec, bound=bound, started=started, error=error)},
        status=status,
    )


@page_login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    context = _live_context()
    context["start_forms"] = [_start_form(spec) for spec in registry.all_types()]
    context["next_schedule"] = next_scheduled()
    return render(request, "jobs/dashboard.html", context)


@page_login_required
@require_GET
def dashboard_live(request: HtmxHttpRequest) -> HttpResponse:
    """The dashboard's live region; polled every second while jobs are queued or running."""
    context = _live_context()
    return _respond(request, "jobs/dashboard.html#live", context, live=context["polling"])


# -- history -----------------------------------------------------------------------------------
DATE_BOUNDS = [MinValueValidator(date(1970, 1, 1)), MaxValueValidator(date(9998, 12, 31))]


class HistoryFilterForm(forms.Form):
    type = forms.ChoiceField(required=False, label="Type")
    status = forms.ChoiceField(
        required=False, choices=[("", "Any status"), *JobStatus.choices], label="Status"
    )
    trigger = forms.ChoiceField(
        required=False, choices=[("", "Any trigger"), *Trigger.choices], label="Trigger"
    )
    # Bounded, so that a day's start and the day after exist in every time zone.
    since = forms.DateField(
        required=False,
        label="From",
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=DATE_BOUNDS,
    )
    until = forms.DateField(
        required=False,
        label="To",
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=DATE_BOUNDS,
    )
    before = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    after = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        names = [spec.name for spec in registry.all_types()]
        requested = self.data.get("type", "") if self.is_bound else ""
        # Old runs of a type that is no longer registered stay searchable.
        if requested and requested not in names and len(requested) <= 64:
            names.append(requested)
        type_field = self.fields["type"]
        assert isinstance(type_field, forms.ChoiceField)
        type_field.choices = [("", "All types"), *((n, type_label(n)) for n in names)]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and until < since:
            self.add_error("until", "The end date is before the start date.")
        return cleaned


def _day_start(day: Any) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def history_filters(form: HistoryFilterForm) -> queries.HistoryFilters:
    """The valid part of the filter form (an invalid field is reported and ignored)."""
    form.is_valid()
    data = form.cleaned_data
    since = data.get("since")
    until = data.get("until")
    return queries.HistoryFilters(
        job_type=data.get("type") or "",
        status=data.get("status") or "",
        trigger=data.get("trigger") or "",
        since=_day_start(since) if since else None,
        # "To" is inclusive: everything queued before the next day starts.
        until=_day_start(until) + timedelta(days=1) if until else None,
    )


def _query_without_cursor(request: HttpRequest) -> str:
    query = request.GET.copy()
    for key in ("before", "after"):
        query.pop(key, None)
    return query.urlencode()


@page_login_required
@require_GET
def history(request: HtmxHttpRequest) -> HttpResponse:
    """All runs, filtered and keyset-paginated; the metrics load after it (``history_metrics``).

    HTMX requests (paging) get only the results partial. Either way the page costs one
    indexed query, whatever the size of the table.
    """
    form = HistoryFilterForm(request.GET)
    filters = history_filters(form)
    page = queries.history_page(
        filters,
        before=form.cleaned_data.get("before"),
        after=form.cleaned_data.get("after"),
        size=HISTORY_PAGE_SIZE,
    )
    query = _query_without_cursor(request)
    context: dict[str, Any] = {
        "form": form,
        "page": page,
        "rows": job_views(page.rows),
        "query": query,
        "metrics_query": query,
        "bulk_limit": services.BULK_LIMIT,
    }
    if request.htmx and not (request.htmx.boosted or request.htmx.history_restore_request):
        return render(request, "jobs/history.html#results", context)
    return render(request, "jobs/history.html", context)


@page_login_required
@require_GET
def history_metrics(request: HttpRequest) -> HttpResponse:
    """Per-type metrics for the history page's dates, loaded after the page.

    It reads every finished run in the period (a GROUP BY, then one sort per type for the
    p95), which on a large table takes longer than the page itself.
    """
    form = HistoryFilterForm(request.GET)
    filters = history_filters(form)
    since = filters.since or timezone.now() - timedelta(days=METRICS_DEFAULT_DAYS)
    context = {
        "metrics": [
            (
                m,
                type_label(m.job_type),
                format_seconds(m.avg_seconds),
                format_seconds(m.p95_seconds),
            )
            for m in queries.type_metrics(since=since, until=filters.until)
        ],
        "metrics_default_window": filters.since is None,
        "metrics_days": METRICS_DEFAULT_DAYS,
    }
    return render(request, "jobs/history.html#metrics", context)


# -- job detail --------------------------------------------------------------------------------
def _get_job(job_id: int) -> JobRun:
    job = JobRun.objects.filter(pk=job_id).first()
    if job is None:
        raise Http404(f"No job with id {job_id}.")
    return job


def _params_rows(job: JobRun) -> list[tuple[str, str]]:
    """Parameters with their form labels where the type is known; values as JSON."""
    labels: dict[str, str] = {}
    try:
        fields = registry.get(job.job_type).params.base_fields
        labels = {
            name: str(f.label or name.replace("_", " ").capitalize()) for name, f in fields.items()
        }
    except registry.UnknownJobType:
        pass
    return [
        (labels.get(key, key), json.dumps(value))
        for key, value in sorted((job.params or {}).items())
    ]


def _result_rows(result: Any) -> list[tuple[str, str]]:
    if result is None:
        return []
    if isinstance(result, dict):
        return [
            (str(key), value if isinstance(value, str) else json.dumps(value))
            for key, value in result.items()
        ]
    return [("value", json.dumps(result))]


@dataclass(frozen=True)
class LogLineView:
    time: str
    level: str
    logger: str
    message: str


def _log_lines(job: JobRun) -> list[LogLineView]:
    """The run's own log (``jobs.joblog``): stored lines, already redacted."""
    return [
        LogLineView(
            time=timezone.localtime(line.created).strftime("%H:%M:%S"),
            level=logging.getLevelName(line.level),
            logger=line.logger,
            message=line.message,
        )
        for line in joblog.lines_of(job.pk)
    ]


def _detail_context(job: JobRun) -> dict[str, Any]:
    view = JobView(job, selectors.progress_of(job))
    return {
        "j": view,
        "job": job,
        "result": _result_rows(job.result),
        "polling": view.is_active,
        "log": _log_lines(job),
        "log_limits": {"lines": joblog.MAX_LINES, "kb": joblog.MAX_BYTES // 1024},
        # The runs that repeat this one ("Retried as #15"), oldest first.
        "retries": list(
            JobRun.objects.filter(retry_of=job)
            .order_by("id")
            .values_list("id", flat=True)[:RETRIES_SHOWN]
        ),
    }


@page_login_required
@require_GET
def job_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    job = _get_job(job_id)
    context = _detail_context(job)
    context["params"] = _params_rows(job)
    return render(request, "jobs/detail.html", context)


@page_login_required
@require_GET
def job_live(request: HttpRequest, job_id: int) -> HttpResponse:
    """The detail page's live part (status, progress, timeline, result, error, the job's
    own log): polled every second while the job is queued or running."""
    job = _get_job(job_id)
    context = _detail_context(job)
    return _respond(request, "jobs/detail.html#live", context, live=context["polling"])
