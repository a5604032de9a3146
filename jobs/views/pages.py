"""The HTML screens: dashboard, history, job detail, and the partials HTMX polls.

Polling: a live region carries ``hx-trigger="every 1s"`` only while something is queued or
running. When nothing is, its partial answers ``286`` (``HttpResponseStopPolling``) with the
final content and without the trigger, so the browser stops asking. Every control that
changes jobs (start, cancel) answers with an ``HX-Trigger: jobs-changed`` event; the live
regions listen for it and refresh at once, which also restarts their polling.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_GET
from django_htmx.http import HttpResponseStopPolling

from jobs import charts, joblog, queries, registry, selectors, services
from jobs.models import JobRun, JobStatus, Trigger
from jobs.params import ParamsForm
from jobs.results import duration_text
from jobs.schedules.present import next_scheduled
from jobs.views.access import page_login_required
from jobs.views.present import JobView, job_views, type_label

if TYPE_CHECKING:
    from collections.abc import Mapping

    from django.http import HttpRequest, HttpResponse

    from jobs.views.access import HtmxHttpRequest

ACTIVE_LIMIT = 50
RECENT_LIMIT = 10
HISTORY_PAGE_SIZE = 50
METRICS_DEFAULT_DAYS = charts.DEFAULT_DAYS
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
        "direct": _direct_text(_direct_of(active) if complete else queries.direct_running()),
        "active": job_views(active[:ACTIVE_LIMIT]),
        "more_active": len(active) > ACTIVE_LIMIT,
        "recent": job_views(recent),
        "polling": bool(active),
        "running_count": sum(1 for job in active if job.status == JobStatus.RUNNING),
    }


def _direct_of(active: list[JobRun]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for job in active:
        if job.direct and job.status == JobStatus.RUNNING:
            counts[job.trigger] = counts.get(job.trigger, 0) + 1
    return counts


def _direct_text(counts: Mapping[str, int]) -> str:
    """``1 running from the CLI, 2 from cron``: runs that take no worker slot."""
    cli, cron = counts.get(Trigger.CLI, 0), counts.get(Trigger.SCHEDULE, 0)
    parts = [f"{cli} running from the CLI"] if cli else []
    if cron:
        parts.append(f"{cron} {'' if cli else 'running '}from cron")
    return ", ".join(parts)


@dataclass
class StartForm:
    spec: registry.JobType
    form: forms.Form
    # The jobs the last submit started (several for a playlist of all windows).
    started: list[JobRun] = field(default_factory=list)
    # The service's verdict when the form itself found nothing wrong.
    error: str = ""

    @property
    def deduplicated(self) -> bool:
        return bool(self.started) and all(job.deduplicated for job in self.started)


def _start_form(
    spec: registry.JobType,
    *,
    bound: Mapping[str, Any] | None = None,
    started: list[JobRun] | None = None,
    error: str = "",
) -> StartForm:
    # Ids stay unique with one form per job type on the page.
    auto_id = f"id_{spec.name}_%s"
    form = spec.bind(bound, auto_id=auto_id) if bound is not None else spec.params(auto_id=auto_id)
    if bound is not None and not form.is_valid():
        error = ""  # the fields say it better
        if isinstance(form, ParamsForm):
            form.clip_for_display()
    return StartForm(spec=spec, form=form, started=started or [], error=error)


def _start_groups() -> list[tuple[str, list[StartForm]]]:
    """The start forms under their job types' headings, by rank, then label."""
    groups: dict[str, list[StartForm]] = {}
    for spec in sorted(registry.all_types(), key=lambda s: (s.rank, s.label)):
        groups.setdefault(spec.group or "Other jobs", []).append(_start_form(spec))
    return list(groups.items())


def render_start_form(
    request: HttpRequest,
    spec: registry.JobType,
    *,
    bound: Mapping[str, Any] | None = None,
    started: list[JobRun] | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    """The start form of one job type after a submit: with its errors, or with what was
    chosen kept and links to the jobs that were started."""
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
    context["start_groups"] = _start_groups()
    context["next_schedule"] = next_scheduled()
    from jobs.views.control import control_context  # it imports the API, which imports this

    context.update(control_context())
    return render(request, "jobs/dashboard.html", context)


@page_login_required
@require_GET
def dashboard_live(request: HtmxHttpRequest) -> HttpResponse:
    """The dashboard's live region; polled every second while jobs are queued or running."""
    context = _live_context()
    return _respond(request, "jobs/dashboard.html#live", context, live=context["polling"])


# -- history -----------------------------------------------------------------------------------
DATE_BOUNDS = [MinValueValidator(date(1970, 1, 1)), MaxValueValidator(date(9998, 12, 31))]


# The history's filters (the other query parameters are its cursors).
FILTER_FIELDS = ("type", "status", "trigger", "since", "until")


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
        # The registered types only: an unknown ``?type=`` is an error, not a new choice.
        type_field = self.fields["type"]
        assert isinstance(type_field, forms.ChoiceField)
        type_field.choices = [
            ("", "All types"),
            *sorted(((s.name, s.label) for s in registry.all_types()), key=lambda c: c[1]),
        ]
        for name in self.errors if self.is_bound else ():
            if name in self.fields:
                self.fields[name].widget.attrs.update(
                    {"aria-invalid": "true", "aria-describedby": "filter-errors"}
                )

    @property
    def filtering(self) -> bool:
        """Any filter chosen (a cursor alone is no filter)."""
        return any(self.data.get(name) for name in FILTER_FIELDS)

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


def _with_default_dates(filters: queries.HistoryFilters) -> queries.HistoryFilters:
    """The metrics' and charts' period: the filter's dates, by default the last
    ``METRICS_DEFAULT_DAYS`` days."""
    if filters.since is not None:
        return filters
    return dataclasses.replace(filters, since=timezone.now() - timedelta(days=METRICS_DEFAULT_DAYS))


@page_login_required
@require_GET
def history(request: HtmxHttpRequest) -> HttpResponse:
    """All runs, filtered and keyset-paginated; the metrics and charts load after it
    (``history_metrics``, ``history_charts``).

    HTMX requests (paging) get only the results partial. Either way the page costs one
    indexed query, whatever the size of the table. A filter that does not parse is named
    and left out, with a 400.
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
        "empty_text": "No runs match these filters." if form.filtering else "No runs yet.",
    }
    status = 400 if form.errors else 200
    if request.htmx and not (request.htmx.boosted or request.htmx.history_restore_request):
        return render(request, "jobs/history.html#results", context, status=status)
    return render(request, "jobs/history.html", context, status=status)


@page_login_required
@require_GET
def history_metrics(request: HttpRequest) -> HttpResponse:
    """Per-type metrics of the runs the history filter selects, loaded after the page.

    It reads every finished run in the period (a GROUP BY, then one sort per type for the
    p95), which on a large table takes longer than the page itself.
    """
    form = HistoryFilterForm(request.GET)
    filters = history_filters(form)
    metrics = [
        (
            m,
            type_label(m.job_type),
            duration_text(m.avg_seconds),
            duration_text(m.p95_seconds),
        )
        for m in queries.type_metrics(_with_default_dates(filters))
    ]
    context = {
        "metrics": metrics,
        # Only playlist runs have a window of their own (the others repeat their type).
        "with_window": any(m.window != m.job_type for m, *_ in metrics),
        "metrics_default_window": filters.since is None,
        "metrics_days": METRICS_DEFAULT_DAYS,
        "filtering": form.filtering,
    }
    return render(request, "jobs/history.html#metrics", context)


# -- job detail --------------------------------------------------------------------------------
@dataclass(frozen=True)
class LogLineView:
    time: str
    level: str
    logger: str
    message: str
    # The lines after the first (a traceback): shown folded, to staff only.
    detail: str = ""


def _log_lines(job: JobRun, *, staff: bool) -> list[LogLineView]:
    """The run's own log (``jobs.joblog``): stored lines, already redacted. A traceback
    names the code's classes and files: staff see it folded, others the first line only."""
    views = []
    for line in joblog.lines_of(job.pk):
        first, _, rest = line.message.partition("\n")
        views.append(
            LogLineView(
                time=timezone.localtime(line.created).strftime("%H:%M:%S"),
                level=logging.getLevelName(line.level),
                logger=line.logger,
                message=first,
                detail=rest if staff else "",
            )
        )
    return views


def _traceback(log: list[LogLineView]) -> str:
    """The last traceback the run logged (the runner logs the failure's)."""
    return next((line.detail for line in reversed(log) if line.detail.startswith("Traceback")), "")


def _detail_context(request: HttpRequest, job: JobRun) -> dict[str, Any]:
    view = JobView(job, selectors.progress_of(job))
    log = _log_lines(job, staff=request.user.is_staff)
    return {
        "j": view,
        "job": job,
        "presented": view.presented,
        "polling": view.is_active,
        "log": log,
        "traceback": _traceback(log) if job.status == JobStatus.FAILED else "",
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
    job = selectors.get_job(job_id)
    context = _detail_context(request, job)
    context["params"] = registry.params_for_people(job.job_type, job.params)
    return render(request, "jobs/detail.html", context)


@page_login_required
@require_GET
def job_live(request: HttpRequest, job_id: int) -> HttpResponse:
    """The detail page's live part (status, progress, timeline, result, error, the job's
    own log): polled every second while the job is queued or running."""
    job = selectors.get_job(job_id)
    context = _detail_context(request, job)
    return _respond(request, "jobs/detail.html#live", context, live=context["polling"])
