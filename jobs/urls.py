from __future__ import annotations

from django.urls import path

from jobs.views import api, bulk, charts, control, metrics, pages, schedules, stream

app_name = "jobs"

urlpatterns = [
    # Pages and the partials their HTMX regions poll.
    path("", pages.dashboard, name="dashboard"),
    path("partials/live", pages.dashboard_live, name="dashboard-live"),
    path("jobs/", pages.history, name="history"),
    path("jobs/metrics", pages.history_metrics, name="history-metrics"),
    path("jobs/charts", charts.history_charts, name="history-charts"),
    path("jobs/<int:job_id>/", pages.job_detail, name="detail"),
    path("jobs/<int:job_id>/live", pages.job_live, name="detail-live"),
    path("schedules/", schedules.page, name="schedules"),
    path("schedules/<slug:name>/enable", schedules.enable, name="schedule-enable"),
    path("schedules/<slug:name>/disable", schedules.disable, name="schedule-disable"),
    path("schedules/<slug:name>/cron", schedules.edit, name="schedule-cron"),
    path("schedules/<slug:name>/run", schedules.run_now, name="schedule-run"),
    path("schedules/<slug:name>/last-run", schedules.last_run, name="schedule-last-run"),
    # The seed's JSON and SSE API (paths as in the seed).
    path("health", api.health, name="health"),
    path("queue/stats", api.queue_stats, name="queue-stats"),
    path("actions/<str:job_type>/start", api.start_job, name="start"),
    path("jobs/<int:job_id>/cancel", api.cancel_job, name="cancel"),
    path("history/cancel-running", api.cancel_running, name="cancel-running"),
    path("jobs/<int:job_id>.json", api.job_detail_json, name="job-json"),
    # Issue 15: run a finished job again, bulk actions over a history filter, metrics.
    path("jobs/<int:job_id>/retry", api.retry_job, name="retry"),
    path("jobs/bulk/<str:action>/confirm", bulk.bulk_confirm, name="bulk-confirm"),
    path("jobs/bulk/<str:action>", bulk.bulk_action, name="bulk"),
    path("metrics", metrics.metrics, name="metrics"),
    # Issue 15: pause and resume the queue, a job type or a lane; a lane's limit.
    path("queue/control", control.state, name="queue-control"),
    path("queue/pause", control.pause, name="queue-pause"),
    path("queue/pause/<str:name>", control.pause, name="queue-pause"),
    path("queue/resume", control.resume, name="queue-resume"),
    path("queue/resume/<str:name>", control.resume, name="queue-resume"),
    path("queue/lanes/<str:lane>/limit", control.set_limit, name="queue-limit"),
    path("jobs/<int:job_id>/stream", stream.job_stream, name="stream"),
]
