"""Access rules shared by the views.

Pages redirect anonymous visitors to the login page (an HTMX request gets ``HX-Redirect`` so
the whole page goes there, not a login form inside a table cell). The JSON API answers
401/403 with a JSON body instead, so a script sees why, and checks CSRF itself so that a
missing token is a JSON 403 too (Django's failure view renders HTML).
"""

from __future__ import annotations

from functools import wraps
from inspect import iscoroutinefunction
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
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


def json_error(status: int, message: str, /, **extra: Any) -> JsonResponse:
    return JsonResponse({"error": message, **extra}, status=status)


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


class _JsonCsrfCheck(CsrfViewMiddleware):
    """Django's CSRF check with a JSON rejection."""

    def _reject(self, request: HttpRequest, reason: str) -> HttpResponse:
        return json_error(403, f"CSRF check failed: {reason}")


_csrf = _JsonCsrfCheck(lambda request: HttpResponse())


def _refuse(request: HttpRequest, user: Any, allowed: set[str]) -> HttpResponse | None:
    """The 401 or 405 this request gets, if any."""
    if not user.is_authenticated:
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
    return None


def api_endpoint(methods: Iterable[str]) -> Callable[[View], View]:
    """A JSON endpoint: login required (401 JSON), CSRF on unsafe methods (403 JSON), and
    only ``methods`` (405 JSON). Works on sync and async views.

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
                refused = _refuse(request, await request.auser(), allowed)
                if refused is not None:
                    return refused
                rejected = _csrf.process_view(request, view, args, kwargs)
                if rejected is not None:
                    return cast("HttpResponseBase", rejected)
                return cast("HttpResponseBase", await view(request, *args, **kwargs))

            wrapper = async_wrapper
        else:

            @wraps(view)
            def sync_wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
                refused = _refuse(request, request.user, allowed)
                if refused is not None:
                    return refused
                rejected = _csrf.process_view(request, view, args, kwargs)
                if rejected is not None:
                    return cast("HttpResponseBase", rejected)
                return cast("HttpResponseBase", view(request, *args, **kwargs))

            wrapper = sync_wrapper
        # The wrapper runs the CSRF check itself (answering JSON); the middleware must not.
        setattr(wrapper, "csrf_exempt", True)  # noqa: B010 (mypy: no such attribute)
        return wrapper

    return decorate
