"""Times in the viewer's time zone: the browser names its zone in a cookie
(``static/js/app.js``), and every request is rendered in it; without the cookie (the first
page a browser sees) or with a zone this server does not know, in ``PLAYLISTER_TIME_ZONE``.
Every page names the zone it uses (``templates/base.html``). Schedules are the exception:
their times are wall-clock times of ``PLAYLISTER_TIME_ZONE``, and their page says so.
"""

from __future__ import annotations

import re
import zoneinfo
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from asgiref.sync import iscoroutinefunction
from django.utils import timezone
from django.utils.decorators import sync_and_async_middleware

if TYPE_CHECKING:
    from collections.abc import Callable

    from django.http import HttpRequest

COOKIE = "tz"
# IANA names: "Europe/Berlin", "America/Argentina/Buenos_Aires", "Etc/GMT+5".
_NAME = re.compile(r"[A-Za-z0-9_+\-/]{1,64}")


@lru_cache(maxsize=64)
def viewer_zone(name: str) -> zoneinfo.ZoneInfo | None:
    """The zone a cookie names, or None for junk and names this server's tz data lacks."""
    if not _NAME.fullmatch(name):
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return None


def _activate(request: HttpRequest) -> None:
    zone = viewer_zone(request.COOKIES.get(COOKIE, ""))
    # Set or cleared on every request: a thread's previous request leaves nothing behind.
    if zone is None:
        timezone.deactivate()
    else:
        timezone.activate(zone)
    request.viewer_zone = zone  # type: ignore[attr-defined]


@sync_and_async_middleware
def viewer_time_zone(get_response: Callable[[HttpRequest], Any]) -> Callable[[HttpRequest], Any]:
    """Render each request in the zone its cookie names (sync and async alike: the event
    stream is an async view and must stay one)."""
    if iscoroutinefunction(get_response):

        async def async_middleware(request: HttpRequest) -> Any:
            _activate(request)
            return await get_response(request)

        return async_middleware

    def middleware(request: HttpRequest) -> Any:
        _activate(request)
        return get_response(request)

    return middleware
