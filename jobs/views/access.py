"""Access rules shared by the views.

Pages redirect anonymous visitors to the login page (an HTMX request gets ``HX-Redirect`` so
the whole page goes there, not a login form inside a table cell). The JSON API answers
401/403/405 with a JSON body instead, so a script sees why. It checks CSRF after the login
and the method (a stranger hears "log in", not "CSRF"); a failure goes to
``settings.CSRF_FAILURE_VIEW`` (``jobs.views.errors.csrf_failure``), which answers JSON on the
API's paths. Every error body stays under ``ERROR_BODY_LIMIT`` bytes.
"""

from __future__ import annotations

import json
from functools import wraps
from inspect import iscoroutinefunction
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import redirect
from django.urls import reverse

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from django_htmx.middleware import HtmxDetails

    View = Callable[..., Any]


class HtmxHttpRequest(HttpRequest):
    """The request type of views behind ``HtmxMiddleware`` (for type checking only)."""

    htmx: HtmxDetails


ERROR_BODY_LIMIT = 1000


def _size(body: dict[str, Any]) -> int:
    return len(json.dumps(body, ensure_ascii=False).encode())


def _fit(text: str, max_bytes: int) -> str:
    """``text``, cut so that it takes at most ``max_bytes`` as a JSON string (a character
    takes at most 6: ``\\u001f``)."""
    if len(json.dumps(text, ensure_ascii=False).encode()) <= max_bytes:
        return text
    return text[: (max_bytes - 5) // 6] + "…"


def _shrunk(message: str, extra: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {"error": _fit(message, 400)}
    for key, value in extra.items():
        # Short scalars (a job's status) stay as they are.
        if value is None or isinstance(value, bool | int | float) or len(str(value)) <= 40:
            body[key] = value
    fields = extra.get("fields")
    if isinstance(fields, dict):
        body["fields"] = {
            _fit(str(name), 60): [_fit(" ".join(map(str, messages)), 100)]
            for name, messages in list(fields.items())[:3]
        }
    if _size(body) > ERROR_BODY_LIMIT:
        body.pop("fields", None)
    return body


def json_error(status: int, message: str, /, **extra: Any) -> JsonResponse:
    """``{"error": message, **extra}``; when that would pass ``ERROR_BODY_LIMIT`` bytes, the
    message is cut and at most three ``fields`` are kept, shortened."""
    body = {"error": message, **extra}
    if _size(body) > ERROR_BODY_LIMIT:
        body = _shrunk(message, extra)
    return JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})


def login_url_for(request: HttpRequest) -> str:
    """The login page, coming back to the page the person was on (HTMX: the page, not the
    partial that happened to ask)."""
    htmx = getattr(request, "htmx", None)
    back = (htmx.current_url_abs_path if htmx else None) or request.get_full_path()
    return f"{reverse('login')}?{urlencode({'next': back})}"


def page_login_required(view: View) -> View:
    """``login_required`` for pages and their partials, HTMX-aware."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.user.is_authenticated:
            return cast("HttpResponseBase", view(request, *args, **kwargs))
        if getattr(request, "htmx", False):
            response = HttpResponse(status=401)
            response["HX-Redirect"] = login_url_for(request)
            return response
        return redirect(login_url_for(request))

    return wrapper


# Django's own check, run by the decorator after the login and the method; a failure
# answers through settings.CSRF_FAILURE_VIEW.
_csrf = CsrfViewMiddleware(lambda request: HttpResponse())


def _refuse(
    request: HttpRequest,
    user: Any,
    allowed: set[str],
    *,
    login: bool,
    view: tuple[View, tuple[Any, ...], dict[str, Any]],
) -> HttpResponseBase | None:
    """The 401, 405 or (CSRF) 403 this request gets, if any, in that order."""
    if login and not user.is_authenticated:
        response = json_error(401, f"Authentication required: log in at {reverse('login')}")
        if getattr(request, "htmx", False):
            response["HX-Redirect"] = login_url_for(request)
        return response
    if request.method not in allowed:
        response = json_error(
            405, f"Method {request.method} not allowed; use {', '.join(sorted(allowed))}."
        )
        response["Allow"] = ", ".join(sorted(allowed))
        return response
    return cast("HttpResponseBase | None", _csrf.process_view(request, *view))


def _not_found(exc: Http404) -> JsonResponse:
    # Here, not in the 404 handler: the handler is not called under DEBUG, and it only
    # knows the path, not which job or action is missing.
    return json_error(404, str(exc) or "Not found.")


def api_endpoint(methods: Iterable[str], *, login: bool = True) -> Callable[[View], View]:
    """A JSON endpoint: login required unless not ``login`` (401 JSON), CSRF on unsafe
    methods (403 JSON), and only ``methods`` (405 JSON). Works on sync and async views; its
    paths get JSON error pages too (``jobs.views.errors``).

    HTMX requests from the pages call these endpoints too; an expired session sends the
    browser to the login page instead of failing silently.
    """
    allowed = {m.upper() for m in methods}
    if "GET" in allowed:
        allowed.add("HEAD")

    def decorate(view: View) -> View:
        wrapper: View
        if iscoroutinefunction(view):

            @wraps(view)
            async def async_wrapper(
                request: HttpRequest, *args: Any, **kwargs: Any
            ) -> HttpResponseBase:
                user = await request.auser() if login else None
                refused = _refuse(request, user, allowed, login=login, view=(view, args, kwargs))
                if refused is not None:
                    return refused
                try:
                    return cast("HttpResponseBase", await view(request, *args, **kwargs))
                except Http404 as exc:
                    return _not_found(exc)

            wrapper = async_wrapper
        else:

            @wraps(view)
            def sync_wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
                user = request.user if login else None
                refused = _refuse(request, user, allowed, login=login, view=(view, args, kwargs))
                if refused is not None:
                    return refused
                try:
                    return cast("HttpResponseBase", view(request, *args, **kwargs))
                except Http404 as exc:
                    return _not_found(exc)

            wrapper = sync_wrapper
        # The wrapper runs the CSRF check itself (answering JSON); the middleware must not.
        setattr(wrapper, "csrf_exempt", True)  # noqa: B010 (mypy: no such attribute)
        setattr(wrapper, "api_endpoint", True)  # noqa: B010
        return wrapper

    return decorate
