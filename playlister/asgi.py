from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

from jobs.asgi import releasable_request_threads

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "playlister.settings")

# A job's progress stream lets go of its request's thread once it streams (jobs.asgi).
application = releasable_request_threads(get_asgi_application())
