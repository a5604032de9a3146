"""Static files (htmx, the stylesheet) served by the app itself.

``runserver`` serves them only with DEBUG on, and uvicorn never does; a self-hosted app
should not need a second server for two small files. Files come from the staticfiles
finders (``static/`` and the apps' folders, the admin's included), with Last-Modified, so a
browser revalidates cheaply (304).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.staticfiles.views import serve

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponseBase


def static_file(request: HttpRequest, path: str) -> HttpResponseBase:
    response = serve(request, path, insecure=True)
    # Revalidate on each use: app.css changes with the code and carries no hash.
    response["Cache-Control"] = "no-cache"
    return response
