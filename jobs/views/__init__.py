"""The web routes of the job system.

* ``pages``  — the HTML screens (dashboard, history, job detail) and their HTMX partials;
* ``api``    — the seed's JSON API (start, cancel, cancel-running, queue stats, a job as JSON);
* ``stream`` — a job's progress as Server-Sent Events;
* ``access`` — who may call what: login for pages, 401/403 as JSON for the API;
* ``present`` — what a person sees of a job (formatting, JSON shapes), shared by all three.

Static files are the project's concern (WhiteNoise, ``playlister.settings``).

Read-only queries shaped for these screens live in ``jobs.queries``.
"""
