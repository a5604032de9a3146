"""The job side of a schedule (imported by ``jobs.models``; the table is ``job_schedules``)."""

from __future__ import annotations

from django.db import models


class Outcome(models.TextChoices):
    FIRED = "fired", "Fired"
    SKIPPED = "skipped", "Skipped"
    FAILED = "failed", "Failed"
    MANUAL = "manual", "Run now"


class JobSchedule(models.Model):
    """What one of our Django-Q2 schedules runs, and how its latest run went.

    A schedule is Django-Q2's ``Schedule`` row — the timing: its cron expression, enabled
    (``repeats`` -1) or disabled (``repeats`` 0, which Django-Q2's scheduler never fires),
    ``next_run`` — plus this row: the name people use, the job type and its parameters, and
    the record of the latest run that the Schedules page shows.
    """

    schedule = models.OneToOneField(
        "django_q.Schedule",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="job_schedule",
    )
    # Also the Django-Q2 schedule's name (its logs and admin say it); unique here, so two
    # processes installing the defaults at once cannot both create one.
    name = models.SlugField(max_length=100, unique=True)
    label = models.CharField(max_length=200, blank=True)
    job_type = models.CharField(max_length=64)
    params = models.JSONField(default=dict, blank=True)
    # The latest run time dealt with (fired or skipped), or when the schedule was created,
    # enabled or given a new expression: run times at or before it never fire.
    last_fire = models.DateTimeField()
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True)
    last_reason = models.CharField(max_length=500, blank=True)
    # Not a foreign key: pruning the job history must stay a plain (fast) DELETE.
    last_job_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        db_table = "job_schedules"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
