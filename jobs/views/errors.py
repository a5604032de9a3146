"""Error answers: JSON with a message on the API's paths, Django's HTML pages elsewhere.

The project's URLconf names these as its ``handler400/403/404/500`` and
``settings.CSRF_FAILURE_VIEW``. An API path is one that an ``api_endpoint`` view serves, or
would serve with other values in its variable parts: ``/jobs/abc/cancel`` is the cancel
endpoint with a bad id, and says so. The paths are read from the URLconf itself, so a new
endpoint needs nothing here.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.converters import get_converters
from django.urls.resolvers import RoutePattern
from django.views import csrf, defaults

from jobs.params import preview
from jobs.views.access import json_error

if TYPE_CHECKING:
    from collections.abc import Iterator

    from django.http import HttpRequest, HttpResponse

_TOO_LARGE = (RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent)
# What a person should send where a converter refused the value (others: "a valid value").
_KINDS = {"int": "a whole number", "slug": "letters, digits, - and _", "uuid": "a UUID"}
_VARIABLE = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


def _loose(route: str) -> tuple[str, dict[str, str]]:
    """A route as a regex whose variable parts take anything (a "/" too: ``%2F`` in a job
    type is still the start endpoint), and their converters."""
    parts, converters, last = [], {}, 0
    for match in _VARIABLE.finditer(route):
        parts.append(re.escape(route[last : match.start()]))
        name = match["name"]
        converters[name] = match["converter"] or "str"
        parts.append(f"(?P<{name}>.*)")
        last = match.end()
    parts.append(re.escape(route[last:]))
    return "".join(parts), converters


def _api_routes(
    patterns: list[URLPattern | URLResolver],
    prefix: str = "",
    converters: dict[str, str] | None = None,
) -> Iterator[tuple[re.Pattern[str], dict[str, str]]]:
    for entry in patterns:
        if not isinstance(entry.pattern, RoutePattern):
            continue  # regex routes (the admin's) are no API
        regex, found = _loose(str(entry.pattern))
        both = {**(converters or {}), **found}
        if isinstance(entry, URLResolver):
            yield from _api_routes(entry.url_patterns, prefix + regex, both)
        elif getattr(entry.callback, "api_endpoint", False):
            yield re.compile(f"/{prefix}{regex}", re.DOTALL), both


@lru_cache(maxsize=4)
def api_routes(urlconf: str | None = None) -> list[tuple[re.Pattern[str], dict[str, str]]]:
    return list(_api_routes(get_resolver(urlconf).url_patterns))


def _api_match(request: HttpRequest) -> tuple[re.Match[str], dict[str, str]] | None:
    for regex, converters in api_routes(getattr(request, "urlconf", None)):
        match = regex.fullmatch(request.path_info)
        if match is not None:
            return match, converters
    return None


def is_api_request(request: HttpRequest) -> bool:
    return _api_match(request) is not None


def _not_found_message(request: HttpRequest) -> str:
    found = _api_match(request)
    if found is not None:
        match, converters = found
        known = get_converters()
        for name, value in match.groupdict().items():
            converter = known.get(converters.get(name, "str"))
            if converter is not None and not re.fullmatch(converter.regex, value):
                kind = _KINDS.get(converters.get(name, ""), "a valid value")
                return f"{name} must be {kind}, not {preview(value)}"
    return f"Nothing at {preview(request.path_info)}."


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """400, or 413 for a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` / too many fields."""
    if not is_api_request(request):
        return defaults.bad_request(request, exception)
    if isinstance(exception, _TOO_LARGE):
        return json_error(413, f"The request body is too large: {exception}")
    return json_error(400, "Bad request.")


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if not is_api_request(request):
        return defaults.permission_denied(request, exception)
    return json_error(403, "Permission denied.")


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if not is_api_request(request):
        return defaults.page_not_found(request, exception)
    return json_error(404, _not_found_message(request))


def server_error(request: HttpRequest) -> HttpResponse:
    """Never a traceback in the answer: the log has it."""
    if not is_api_request(request):
        return defaults.server_error(request)
    return json_error(500, "Internal error; the server log has the details.")


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """``settings.CSRF_FAILURE_VIEW``: a JSON 403 for the API, Django's page elsewhere."""
    if not is_api_request(request):
        return csrf.csrf_failure(request, reason)
    return json_error(403, f"CSRF check failed: {reason}")
