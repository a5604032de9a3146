"""The seed's JSON API.

| method, path                     | answer                                                      |
|----------------------------------|-------------------------------------------------------------|
| POST /actions/<job-type>/start   | 202 {"jobId"}; 200 + "deduplicated": true; 400 bad input    |
| POST /jobs/<id>/cancel           | 202; 404 unknown id; 409 already finished                   |
| POST /history/cancel-running     | 200 {"cancelled": n}                                        |
| GET  /queue/stats                | {"pending", "size", "active", "concurrency"}                |
| GET  /jobs/<id>.json             | the job, its live progress and timeline                     |
| GET  /jobs/<id>/stream           | Server-Sent Events (``jobs.views.stream``)                  |

Errors are JSON ``{"error": "..."}`` under 1 KB (bad parameters add ``"fields": {name:
[messages]}``), for 400/401/403/404/405/413 alike: ``jobs.views.errors`` answers for paths no
view took (``/jobs/abc/cancel``) and bodies over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (413). The
dashboard's HTMX controls post to the same endpoints and get HTML back.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django_htmx.http import trigger_client_event

from jobs import registry, selectors, services
from jobs.models import Trigger
from jobs.params import clip, preview
from jobs.views import pages
from jobs.views.access import api_endpoint, json_error
from jobs.views.present import job_json

if TYPE_CHECKING:
    from jobs.views.access import HtmxHttpRequest

# Told to the page so that its live region refreshes (and resumes polling) at once.
JOBS_CHANGED = "jobs-changed"


@api_endpoint(["GET"], login=False)
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


# Parameters are flat values; deeper JSON is junk (and deep enough would crash a parser).
MAX_JSON_DEPTH = 16


def _deeper_than(value: Any, limit: int) -> bool:
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return False


def params_from_request(request: HttpRequest, spec: registry.JobType) -> dict[str, Any]:
    """The start parameters as given: a JSON object, or form data (the last value of a name
    wins, as the dashboard's checkboxes need; a multi-value widget reads them all).

    A field the request does not mention is left out, so the form gives it its initial
    value, exactly as on the CLI. Unknown keys are passed on for ``JobType.validate`` to name.
    """
    if request.content_type == "application/json":
        body = request.body
        if not body.strip():
            return {}
        try:
            data = json.loads(body)
        except RecursionError:
            raise BadRequest(f"The body is nested deeper than {MAX_JSON_DEPTH} levels.") from None
        except ValueError as exc:
            raise BadRequest(f"The body is not valid JSON: {clip(str(exc), 200)}") from None
        if not isinstance(data, dict):
            raise BadRequest(
                'The body must be a JSON object of parameters, e.g. {"dry_run": true}.'
            )
        if _deeper_than(data, MAX_JSON_DEPTH):
            raise BadRequest(f"The body is nested deeper than {MAX_JSON_DEPTH} levels.")
        return data
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        fields = spec.params.base_fields
        params: dict[str, Any] = {
            key: request.POST[key]
            for key in request.POST
            if key not in fields and key != "csrfmiddlewaretoken"
        }
        for name, field in fields.items():
            if not field.widget.value_omitted_from_data(request.POST, request.FILES, name):
                params[name] = field.widget.value_from_datadict(request.POST, request.FILES, name)
        return params
    # Only now: a form body may already have been read as a stream (CSRF reads POST).
    if not request.body.strip():
        return {}
    raise BadRequest(
        f"Unsupported content type {preview(request.content_type)}: send a JSON object "
        "(Content-Type: application/json) or form data."
    )


@api_endpoint(["POST"])
def start_job(request: HtmxHttpRequest, job_type: str) -> HttpResponse:
    """Queue a job of ``job_type`` with the posted parameters (trigger ``web``); params that
    stand for several jobs (a playlist of all windows) queue each, and the answer adds
    ``jobs`` (``jobId`` is the first)."""
    try:
        spec = registry.get(job_type)
    except registry.UnknownJobType as exc:
        return json_error(400, str(exc), field="job_type")
    try:
        params = params_from_request(request, spec)
    except BadRequest as exc:
        return json_error(400, exc.message)
    try:
        jobs = services.enqueue_each(job_type=spec.name, params=params, trigger=Trigger.WEB)
    except registry.JobParamsError as exc:
        if request.htmx:
            return pages.render_start_form(request, spec, bound=params, error=str(exc), status=400)
        return json_error(400, str(exc), fields=exc.errors)
    except registry.JobError as exc:
        return json_error(400, str(exc))

    first = jobs[0]
    status = 200 if all(job.deduplicated for job in jobs) else 202
    response: HttpResponse
    if request.htmx:
        # The form keeps what was chosen: the next start is usually a variation of it.
        response = pages.render_start_form(request, spec, bound=params, started=jobs, status=status)
    else:
        body: dict[str, Any] = {
            "jobId": first.pk,
            "status": first.status,
            "deduplicated": first.deduplicated,
        }
        if len(jobs) > 1:
            body["jobs"] = [
                {"jobId": job.pk, "status": job.status, "deduplicated": job.deduplicated}
                for job in jobs
            ]
        response = JsonResponse(body, status=status)
    response["Location"] = reverse("jobs:job-json", args=[first.pk])
    return trigger_client_event(response, JOBS_CHANGED, {"jobId": first.pk})


@api_endpoint(["POST"])
def cancel_job(request: HtmxHttpRequest, job_id: int) -> HttpResponse:
    """Cancel a job: a queued one at once, a running one at its next checkpoint."""
    response: HttpResponse
    try:
        job = services.cancel_job(job_id=job_id)
    except selectors.JobNotFound as exc:
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
        # A notice that goes away by itself (static/js/app.js).
        response = render(request, "jobs/dashboard.html#notice", {"cancelled": cancelled})
        trigger_client_event(response, JOBS_CHANGED)
    else:
        response = JsonResponse({"cancelled": cancelled})
    return response


@api_endpoint(["GET"])
def job_detail_json(request: HttpRequest, job_id: int) -> JsonResponse:
    return JsonResponse(job_json(selectors.get_job(job_id)))


def _retry_refusal(exc: registry.JobError) -> int:
    if isinstance(exc, selectors.JobNotFound):
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
