"""Thin views over the job system's selectors and services."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from jobs import selectors
from jobs.models import JobRun


@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """Liveness for load balancers and ``make run``: the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


@login_required
@require_GET
def queue_stats(request: HttpRequest) -> JsonResponse:
    return JsonResponse(dict(selectors.queue_stats()))


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    jobs = list(JobRun.objects.order_by("-id")[:20])
    progress = selectors.progress_of_many(jobs)
    return render(
        request,
        "jobs/dashboard.html",
        {
            "stats": selectors.queue_stats(),
            "rows": [(job, progress[job.pk]) for job in jobs],
        },
    )
