"""The seed's JSON API.

| method, path                     | answer                                                      |
|----------------------------------|-------------------------------------------------------------|
| POST /actions/<job-type>/start   | 202 {"jobId"}; 200 + "deduplicated": true; 400 bad input    |
| POST /jobs/<id>/cancel           | 202; 404 unknown id; 409 already finished                   |
| POST /history/cancel-running     | 200 {"cancelled": n}                                        |
| GET  /queue/stats                | {"pending", "size", "active", "concurrency"}                |
| GET  /jobs/<id>.json             | the job, its live progress and timeline                     |
| GET  /jobs/<id>/stream           | Server-Sent Events (``jobs.views.stream``)                  |

Errors are JSON ``{"error": "..."}`` (bad parameters add ``"fields": {name: [messages]}``).
The dashboard's HTMX controls post to the same endpoints and get HTML back.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from django import forms
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET
from django_htmx.http import trigger_client_event

from jobs import registry, selectors, services
from jobs.models import JobRun, Trigger
from jobs.views import pages
from jobs.views.access import api_endpoint, json_error
from jobs.views.present import job_json

if TYPE_CHECKING:
    from jobs.views.access import HtmxHttpRequest

# Told to the page so that its live region refreshes (and resumes polling) at once.
JOBS_CHANGED = "jobs-changed"


@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """Liveness for load balancers and ``make run``: the database answers. No login."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


@api_endpoint(["GET"])
def queue_stats(request: HttpRequest) -> JsonResponse:
    return JsonResponse(dict(selectors.queue_stats()))


class BadRequest(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def params_from_request(request: HttpRequest, spec: registry.JobType) -> dict[str, Any]:
    """The start parameters: a JSON object, or form data with HTML form semantics.

    Form data is read through each field's widget, so an unticked checkbox means False (as a
    browser sends it) and multi-value fields keep every value. Unknown keys are passed on for
    ``JobType.validate`` to name.
    """
    if request.content_type == "application/json":
        body = request.body
        if not body.strip():
            return {}
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise BadRequest(f"The body is not valid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise BadRequest(
                'The body must be a JSON object of parameters, e.g. {"dry_run": true}.'
            )
        return data
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        fields = spec.params.base_fields
        params: dict[str, Any] = {
            key: request.POST[key]
            for key in request.POST
            if key not in fields and key != "csrfmiddlewaretoken"
        }
        for name, field in fields.items():
            if name in request.POST or isinstance(field.widget, forms.CheckboxInput):
                params[name] = field.widget.value_from_datadict(request.POST, request.FILES, name)
        return params
    # Only now: a form body may already have been read as a stream (CSRF reads POST).
    if not request.body.strip():
        return {}
    raise BadRequest(
        f"Unsupported content type {request.content_type!r}: send a JSON object "
        "(Content-Type: application/json) or form data."
    )


@api_endpoint(["POST"])
def start_job(request: HtmxHttpRequest, job_type: str) -> HttpResponse:
    """Queue a job of ``job_type`` with the posted parameters (trigger ``web``)."""
    try:
        spec = registry.get(job_type)
    except registry.UnknownJobType as exc:
        return json_error(400, str(exc), field="job_type")
    try:
        params = params_from_request(request, spec)
    except BadRequest as exc:
        return json_error(400, exc.message)
    try:
        job = services.enqueue(spec.name, params, trigger=Trigger.WEB)
    except registry.JobParamsError as exc:
        if request.htmx:
            return pages.render_start_form(
                request, spec, bound=request.POST, error=str(exc), status=400
            )
        return json_error(400, str(exc), fields=exc.errors)
    except registry.JobError as exc:
        return json_error(400, str(exc))

    status = 200 if job.deduplicated else 202
    response: HttpResponse
    if request.htmx:
        response = pages.render_start_form(request, spec, started=job, status=status)
    else:
        response = JsonResponse(
            {"jobId": job.pk, "status": job.status, "deduplicated": job.deduplicated},
            status=status,
        )
    response["Location"] = reverse("jobs:job-json", args=[job.pk])
    return trigger_client_event(response, JOBS_CHANGED, {"jobId": job.pk})


@api_endpoint(["POST"])
def cancel_job(request: HtmxHttpRequest, job_id: int) -> HttpResponse:
    """Cancel a job: a queued one at once, a running one at its next checkpoint."""
    response: HttpResponse
    try:
        job = services.cancel_job(job_id)
    except services.JobNotFound as exc:
        response = json_error(404, str(exc))
    except services.JobAlreadyFinished as exc:
        response = json_error(409, str(exc), status=exc.job.status)
    else:
        response = JsonResponse(
            {
                "jobId": job.pk,
                "status": job.status,
                "cancelRequested": job.cancel_requested_at is not None,
            },
            status=202,
        )
    if request.htmx:
        # Whatever the outcome, the page's view of this job is stale: refresh it.
        trigger_client_event(response, JOBS_CHANGED, {"jobId": job_id})
    return response


@api_endpoint(["POST"])
def cancel_running(request: HtmxHttpRequest) -> HttpResponse:
    """Ask every running job to stop (the seed's "cancel all running")."""
    cancelled = services.cancel_running()
    response: HttpResponse
    if request.htmx:
        response = HttpResponse(
            f"Asked {cancelled} running job{'s' if cancelled != 1 else ''} to stop."
        )
        trigger_client_event(response, JOBS_CHANGED)
    else:
        response = JsonResponse({"cancelled": cancelled})
    return response


@api_endpoint(["GET"])
def job_detail_json(request: HttpRequest, job_id: int) -> JsonResponse:
    job = JobRun.objects.filter(pk=job_id).first()
    if job is None:
        return json_error(404, f"no job with id {job_id}")
    return JsonResponse(job_json(job))


def _retry_refusal(exc: registry.JobError) -> int:
    if isinstance(exc, services.JobNotFound):
        return 404
    if isinstance(exc, services.JobStillActive):
        return 409
    return 400  # its type is gone or its params are no longer valid


@api_endpoint(["POST"])
def retry_job(request: HtmxHttpRequest, job_id: int) -> HttpResponse:
    """Run a finished job again (issue 15): 202 with the new job's id; 200 and
    ``deduplicated`` when an active job holds the type's dedupe key; 404 unknown id; 409 still
    queued or running; 400 when its type or params are no longer valid.

    The page's buttons (HTMX) get a note linking to the new run, or saying why not.
    """
    response: HttpResponse
    try:
        job = services.retry_job(job_id=job_id, trigger=Trigger.WEB)
    except registry.JobError as exc:
        status = _retry_refusal(exc)
        if request.htmx:
            response = render(request, "jobs/detail.html#retried", {"error": exc}, status=status)
        else:
            response = json_error(status, str(exc))
    else:
        status = 200 if job.deduplicated else 202
        if request.htmx:
            response = render(request, "jobs/detail.html#retried", {"new": job}, status=status)
        else:
            response = JsonResponse(
                {
                    "jobId": job.pk,
                    "status": job.status,
                    "retryOf": job.retry_of_id,
                    "deduplicated": job.deduplicated,
                },
                status=status,
            )
        response["Location"] = reverse("jobs:job-json", args=[job.pk])
    if request.htmx:
        # The page's view of this job (its "Retried as" list) is stale either way.
        trigger_client_event(response, JOBS_CHANGED, {"jobId": job_id})
    return response
