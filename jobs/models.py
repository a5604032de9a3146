"""The job record: one ``job_runs`` row per run of a job, whatever route started it."""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCESS = "success", "Success"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


ACTIVE_STATUSES = (JobStatus.QUEUED, JobStatus.RUNNING)
FINISHED_STATUSES = (JobStatus.SUCCESS, JobStatus.FAILED, JobStatus.CANCELLED)


class Trigger(models.TextChoices):
    WEB = "web", "Web"
    CLI = "cli", "CLI"
    SCHEDULE = "schedule", "Schedule"


class Priority(models.IntegerChoices):
    """Lower runs first (as in Oban): a person waits least, background refreshes most."""

    URGENT = 0, "Urgent"
    MANUAL = 1, "Manual"
    SCHEDULED = 2, "Scheduled"
    BACKGROUND = 3, "Background"


class JobRun(models.Model):
    """One run of a job.

    State machine (every transition is one conditional UPDATE in ``jobs.services``)::

        queued ──claim──▶ running ──▶ success | failed | cancelled
        queued ──cancel─▶ cancelled
        running ─retry──▶ queued            (run_after in the future)

    Direct runs (CLI, cron) are inserted as ``running`` with ``direct=True``: they never
    pass through the queue and do not take a worker slot.
    """

    job_type = models.CharField(max_length=64)
    # The seed's column: the playlist window for playlist jobs, else the job type.
    window = models.CharField(max_length=64)
    params = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    trigger = models.CharField(max_length=16, choices=Trigger.choices)
    direct = models.BooleanField(
        default=False, help_text="Run in the starting process (CLI, cron), not by the cluster."
    )
    priority = models.SmallIntegerField(choices=Priority.choices, default=Priority.MANUAL)
    attempt = models.PositiveSmallIntegerField(default=0)
    max_attempts = models.PositiveSmallIntegerField(default=1)
    run_after = models.DateTimeField()
    queued_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    progress_current = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(null=True, blank=True)
    progress_message = models.CharField(max_length=500, blank=True)
    source_counts = models.JSONField(default=dict, blank=True)
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    cancel_requested_at = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=255, blank=True)
    # NULL (not "") for "no key": NULLs never collide in the partial unique index below.
    dedupe_key = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    # The run this one repeats ("Retry of #12"); its retries are ``retries``. The database
    # clears it when the original is pruned (no ORM collection over millions of rows).
    retry_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.DB_SET_NULL,
        related_name="retries",
        help_text="The run this one repeats.",
    )
    checkpoint = models.JSONField(
        null=True, blank=True, help_text="The service's last cursor (issue 15 item 1)."
    )
    # What the run used of external services, by the names the job's code gave them:
    # {name: {"requests": n, "errors": n, "wait_seconds": s}} (``jobs.context.record_usage``),
    # kept across attempts and written with the end state; ``jobs.metrics`` adds it up.
    usage = models.JSONField(default=dict, blank=True)

    class Meta:
        db_table = "job_runs"
        ordering = ["-id"]
        indexes = [
            # The claim: WHERE status='queued' AND direct=false AND run_after<=now ORDER BY
            # priority, queued_at, id. Not a partial index: the ORM binds status as a
            # parameter, and SQLite cannot prove "status = ?" implies a partial index's
            # "status = 'queued'", so it would scan and sort the whole table on every claim.
            # Both equalities lead, so no other index can look better to PostgreSQL's planner:
            # with statistics that still say "few queued" (a burst after a quiet spell) it
            # chose an index on (status, direct) and sorted every queued row on every claim.
            # Its prefix also serves active jobs (dashboard, rescue, queue stats).
            models.Index(
                fields=["status", "direct", "priority", "queued_at", "id"], name="job_runs_claim"
            ),
            # History filters, newest first.
            models.Index(fields=["job_type", "-id"], name="job_runs_type"),
            models.Index(fields=["status", "-id"], name="job_runs_status"),
            models.Index(fields=["trigger", "-id"], name="job_runs_trigger"),
            models.Index(fields=["queued_at"], name="job_runs_queued_at"),
            models.Index(fields=["finished_at"], name="job_runs_finished_at"),
        ]
        constraints = [
            # At most one active job per dedupe key: the database settles concurrent enqueues.
            # Only rows that have a key are in it (NULLs never collide anyway): an index of
            # every active row looked tiny to PostgreSQL's planner, which then took it for
            # the claim and even for UPDATEs by id, walking every dead entry a burst left
            # behind (issue 17: 17 ms a claim after 30,000 jobs, until a VACUUM).
            models.UniqueConstraint(
                fields=["dedupe_key"],
                condition=Q(status__in=ACTIVE_STATUSES, dedupe_key__isnull=False),
                name="job_runs_one_active_per_dedupe_key",
            ),
        ]

    # Set by ``enqueue`` when it returned an already active job instead of a new one.
    deduplicated: bool = False

    def __str__(self) -> str:
        return f"#{self.pk} {self.job_type} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_STATUSES

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at is None:
            return None
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


def owned_attempt(job_id: int, attempt: int) -> models.QuerySet[JobRun]:
    """The row of attempt ``attempt`` of job ``job_id`` while it runs: a rescued or
    re-claimed job no longer matches, so a worker that lost its job can change nothing."""
    return JobRun.objects.filter(id=job_id, status=JobStatus.RUNNING, attempt=attempt)


class JobLogLine(models.Model):
    """One record the job's own code logged (``jobs.joblog``); the last 500 lines / 64 KB of
    a run are kept, secrets redacted. Written in batches by the process's reporter thread."""

    job = models.ForeignKey(
        JobRun, on_delete=models.DB_CASCADE, related_name="log_lines", db_index=False
    )
    attempt = models.PositiveSmallIntegerField(default=1)
    created = models.DateTimeField()
    level = models.PositiveSmallIntegerField()
    logger = models.CharField(max_length=100)
    message = models.TextField()

    class Meta:
        db_table = "job_log_lines"
        ordering = ["id"]
        # A run's lines in order; also what the trimming walks.
        indexes = [models.Index(fields=["job", "id"], name="job_log_lines_job")]

    def __str__(self) -> str:
        return f"#{self.job_id} {self.message[:60]}"


class JobMetricTotal(models.Model):
    """Running totals of finished runs, rolled up from ``job_runs`` by the maintenance so
    that ``/metrics`` reads a few hundred rows, not millions (``jobs.metrics``).

    Totals survive the pruning of history: the counters they feed never go down.
    """

    metric = models.CharField(max_length=32)
    job_type = models.CharField(max_length=64)
    status = models.CharField(max_length=16, blank=True)
    # A histogram bucket's upper bound, a provider's name, a kind of retry, or "".
    label = models.CharField(max_length=100, blank=True)
    value = models.FloatField(default=0.0)

    class Meta:
        db_table = "job_metric_totals"
        constraints = [
            models.UniqueConstraint(
                fields=["metric", "job_type", "status", "label"], name="job_metric_totals_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.metric}{{{self.job_type},{self.status},{self.label}}} {self.value}"


class JobMetricsRollup(models.Model):
    """One row: finished runs with ``finished_at`` before ``rolled_up_until`` are counted in
    ``JobMetricTotal``; later ones are counted from ``job_runs`` at each scrape."""

    rolled_up_until = models.DateTimeField()

    class Meta:
        db_table = "job_metric_rollup"

    def __str__(self) -> str:
        return f"rolled up until {self.rolled_up_until}"


class JobLane(models.Model):
    """Queue control (issue 15 item 4), in the database so every cluster obeys at once.

    ``name`` is ``*`` (the whole queue), a job type, or a lane (``JobType.lane``: the types
    that share one limit). A pause holds new claims of what it names; ``max_running`` caps
    how many runs of the lane run at once. ``running`` is the lane's taken slots: on
    PostgreSQL the claim takes one in the same statement and every end of a run gives it
    back in the same transaction (``jobs.control``); SQLite counts the running rows.
    """

    name = models.CharField(max_length=64, unique=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    paused_by = models.CharField(max_length=150, blank=True)
    max_running = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="At most this many runs at once (empty: no limit)."
    )
    running = models.PositiveIntegerField(
        default=0, help_text="Slots taken (PostgreSQL); kept exact by the maintenance."
    )

    class Meta:
        db_table = "job_lanes"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


# The schedules' table lives beside them; Django finds an app's models through this module.
from jobs.schedules.models import JobSchedule as JobSchedule  # noqa: E402
from jobs.schedules.models import Outcome as Outcome  # noqa: E402
