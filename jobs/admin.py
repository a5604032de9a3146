from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.urls import reverse

from jobs import control, registry, services
from jobs.models import (
    ACTIVE_STATUSES,
    JobLane,
    JobLogLine,
    JobMetricsRollup,
    JobMetricTotal,
    JobRun,
)
from jobs.registry import JobError

if TYPE_CHECKING:
    from django.db.models import QuerySet
    from django.http import HttpRequest


@admin.register(JobRun)
class JobRunAdmin(admin.ModelAdmin[JobRun]):
    """Read-only: job rows change only through the job system's state transitions."""

    list_display = [
        "id",
        "job_type",
        "window",
        "status",
        "trigger",
        "priority",
        "attempt",
        "queued_at",
        "started_at",
        "finished_at",
        "error",
    ]
    list_filter = ["status", "job_type", "trigger", "direct", "priority"]
    search_fields = ["id", "job_type", "window", "error"]
    date_hierarchy = "queued_at"
    show_full_result_count = False
    actions = ["cancel_selected"]

    def view_on_site(self, obj: JobRun) -> str:
        return reverse("jobs:detail", args=[obj.pk])

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Cancel selected jobs", permissions=["view"])
    def cancel_selected(self, request: HttpRequest, queryset: QuerySet[JobRun]) -> None:
        done = 0
        for job_id in queryset.filter(status__in=ACTIVE_STATUSES).values_list("id", flat=True):
            try:
                services.cancel_job(job_id=job_id)
            except JobError:
                continue
            done += 1
        self.message_user(request, f"Cancelled or asked to stop {done} job(s).", messages.INFO)


class _ReadOnly(admin.ModelAdmin[Any]):
    """Written by the job system only (its log, its metrics' totals): looked at, not edited."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(JobLogLine)
class JobLogLineAdmin(_ReadOnly):
    list_display = ["id", "job", "attempt", "created", "level", "logger", "message"]
    list_filter = ["level"]
    search_fields = ["=job__id", "message"]
    list_select_related = ["job"]
    raw_id_fields = ["job"]
    show_full_result_count = False


@admin.register(JobMetricTotal)
class JobMetricTotalAdmin(_ReadOnly):
    list_display = ["metric", "job_type", "status", "label", "value"]
    list_filter = ["metric", "job_type"]


@admin.register(JobMetricsRollup)
class JobMetricsRollupAdmin(_ReadOnly):
    list_display = ["id", "rolled_up_until"]


class JobLaneForm(forms.ModelForm[JobLane]):
    class Meta:
        model = JobLane
        fields = ["name", "max_running"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        name, limit = cleaned.get("name") or self.instance.name, cleaned.get("max_running")
        try:
            # A limit needs a lane; a row to pause may name the queue or any job type.
            control.check_lane(name, limit) if limit is not None else control.check_target(name)
        except control.ControlError as exc:
            raise forms.ValidationError(str(exc)) from None
        return cleaned


@admin.register(JobLane)
class JobLaneAdmin(admin.ModelAdmin[JobLane]):
    """Pauses and limits (``jobs.control``): changed through its services, so that a pause
    records who and when, a limit recounts the lane, and the waiting jobs get tickets."""

    form = JobLaneForm
    list_display = ["name", "paused_at", "paused_by", "max_running", "running"]
    readonly_fields = ["paused_at", "paused_by", "running"]
    actions = ["pause", "resume"]

    def get_readonly_fields(self, request: HttpRequest, obj: JobLane | None = None) -> list[str]:
        return [*self.readonly_fields, *(["name"] if obj is not None else [])]

    def save_model(self, request: HttpRequest, obj: JobLane, form: Any, change: bool) -> None:
        if obj.name in registry.lane_members():
            saved = control.set_limit(lane=obj.name, limit=obj.max_running)
        else:
            saved, _ = JobLane.objects.get_or_create(name=obj.name)
        obj.pk = saved.pk
        obj.refresh_from_db()

    @admin.action(description="Pause (running jobs finish, queued ones wait)")
    def pause(self, request: HttpRequest, queryset: QuerySet[JobLane]) -> None:
        for name in queryset.values_list("name", flat=True):
            control.pause(name=name, by="admin")
        self.message_user(request, "Paused.", messages.INFO)

    @admin.action(description="Resume")
    def resume(self, request: HttpRequest, queryset: QuerySet[JobLane]) -> None:
        for name in queryset.values_list("name", flat=True):
            control.resume(name=name)
        self.message_user(request, "Resumed.", messages.INFO)


# Schedules have their own admin module; importing it registers it.
import jobs.schedules.admin  # noqa: E402, F401
