"""Schedules in the admin (imported by ``jobs.admin``).

Ours are edited here or on the Schedules page, through the same services (the expression
validated, the run times recomputed). Django-Q2's own "Scheduled tasks" admin still lists
every Django-Q2 schedule, but shows ours read-only: a change there would bypass that.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.urls import reverse
from django.utils.html import format_html
from django_q.admin import ScheduleAdmin as DjangoQScheduleAdmin
from django_q.models import Schedule

from jobs import registry
from jobs.models import JobSchedule
from jobs.registry import JobError
from jobs.schedules import cron, services
from jobs.schedules.present import params_text, schedule_views

if TYPE_CHECKING:
    from django.db.models import QuerySet
    from django.http import HttpRequest


class JobScheduleForm(forms.ModelForm[JobSchedule]):
    cron = forms.CharField(label="Cron expression", max_length=200)
    enabled = forms.BooleanField(required=False)

    class Meta:
        model = JobSchedule
        fields = ["label", "params"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["cron"].initial = self.instance.schedule.cron
            self.fields["enabled"].initial = services.is_enabled(self.instance)

    def clean_cron(self) -> str:
        try:
            return cron.normalize(self.cleaned_data["cron"])
        except cron.CronError as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean_params(self) -> dict[str, Any]:
        params = self.cleaned_data.get("params") or {}
        if not isinstance(params, dict):
            raise forms.ValidationError('Parameters are a JSON object: {"name": value}.')
        try:
            registry.get(self.instance.job_type).validate(params)
        except JobError as exc:
            raise forms.ValidationError(str(exc)) from None
        return params


@admin.register(JobSchedule)
class JobScheduleAdmin(admin.ModelAdmin[JobSchedule]):
    form = JobScheduleForm
    list_display = ["name", "label", "job_type", "parameters", "cron", "enabled", "next_run"]
    list_display += ["last_run"]
    readonly_fields = ["name", "job_type", "last_run", "last_reason"]
    fields = ["name", "label", "job_type", "params", "cron", "enabled", "last_run", "last_reason"]
    search_fields = ["name", "label", "job_type"]
    list_select_related = ["schedule"]
    actions = ["enable_selected", "disable_selected", "run_selected"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # the apps declare them; `manage.py schedules reset` restores them

    # Deleting one deletes its Django-Q2 row too (and so this one): a Django-Q2 schedule
    # left behind would call ``fire`` for nothing at every run time.
    def delete_model(self, request: HttpRequest, obj: JobSchedule) -> None:
        Schedule.objects.filter(pk=obj.pk).delete()

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[JobSchedule]) -> None:
        Schedule.objects.filter(pk__in=list(queryset.values_list("pk", flat=True))).delete()

    def view_on_site(self, obj: JobSchedule) -> str:
        return f"{reverse('jobs:schedules')}#schedule-{obj.name}"

    @admin.display(description="Parameters")
    def parameters(self, obj: JobSchedule) -> str:
        return params_text(obj.job_type, obj.params)

    @admin.display(description="Cron")
    def cron(self, obj: JobSchedule) -> str:
        return f"{obj.schedule.cron} ({cron.describe(obj.schedule.cron or '')})"

    @admin.display(description="Enabled", boolean=True)
    def enabled(self, obj: JobSchedule) -> bool:
        return services.is_enabled(obj)

    @admin.display(description="Next run")
    def next_run(self, obj: JobSchedule) -> Any:
        return obj.schedule.next_run if services.is_enabled(obj) else None

    @admin.display(description="Last run")
    def last_run(self, obj: JobSchedule) -> str:
        return schedule_views([obj])[0].last_run_text

    def save_model(self, request: HttpRequest, obj: JobSchedule, form: Any, change: bool) -> None:
        with transaction.atomic():
            JobSchedule.objects.filter(pk=obj.pk).update(label=obj.label, params=obj.params)
            services.set_cron(obj.name, form.cleaned_data["cron"])
            services.set_enabled(obj.name, form.cleaned_data["enabled"])

    @admin.action(description="Enable selected schedules")
    def enable_selected(self, request: HttpRequest, queryset: QuerySet[JobSchedule]) -> None:
        for name in queryset.values_list("name", flat=True):
            services.set_enabled(name, True)

    @admin.action(description="Disable selected schedules")
    def disable_selected(self, request: HttpRequest, queryset: QuerySet[JobSchedule]) -> None:
        for name in queryset.values_list("name", flat=True):
            services.set_enabled(name, False)

    @admin.action(description="Run selected schedules now")
    def run_selected(self, request: HttpRequest, queryset: QuerySet[JobSchedule]) -> None:
        for name in queryset.values_list("name", flat=True):
            try:
                job = services.run_now(name)
            except JobError as exc:
                self.message_user(request, f"{name}: {exc}", messages.ERROR)
                continue
            self.message_user(request, f"{name}: job {job.pk} ({job.status})", messages.INFO)


class ScheduleAdmin(DjangoQScheduleAdmin):  # type: ignore[misc]
    """Django-Q2's admin, with ours read-only and a link to where they are edited."""

    list_display = (*DjangoQScheduleAdmin.list_display, "edit_link")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.func == services.FIRE_FUNC:
            return False
        return bool(super().has_change_permission(request, obj))

    @admin.display(description="Edit")
    def edit_link(self, obj: Schedule) -> str:
        if obj.func != services.FIRE_FUNC:
            return ""
        url = reverse("admin:jobs_jobschedule_change", args=[obj.pk])
        return format_html('<a href="{}">job schedule</a>', url)


admin.site.unregister(Schedule)
admin.site.register(Schedule, ScheduleAdmin)
