"""The job-type registry.

Apps register their job types (in a ``jobs.py`` module, imported by ``JobsConfig.ready``).
One ``JobType`` drives everything generic: parameter validation in ``enqueue``, the API's
400s, the dashboard's start forms and ``manage.py jobs enqueue TYPE --param k=v``. The
parameters are a Django ``Form``: it parses strings (CLI, HTML forms) and JSON values alike,
names the field in its errors and renders itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django import forms

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from jobs.models import Priority


class JobError(Exception):
    """Base class of the job system's errors that a person can act on."""


class UnknownJobType(JobError):
    def __init__(self, name: str) -> None:
        known = ", ".join(sorted(_registry)) or "none registered"
        super().__init__(f"unknown job type {name!r} (known: {known})")
        self.name = name


class JobParamsError(JobError):
    """Parameters that do not fit the job type's spec; ``errors`` maps field → messages."""

    def __init__(self, job_type: str, errors: Mapping[str, list[str]]) -> None:
        self.job_type = job_type
        self.errors = dict(errors)
        detail = "; ".join(
            f"{name}: {' '.join(messages)}" if name != "__all__" else " ".join(messages)
            for name, messages in self.errors.items()
        )
        super().__init__(f"invalid parameters for {job_type}: {detail}")


class NoParams(forms.Form):
    """The spec of a job type that takes no parameters."""


@dataclass(frozen=True)
class JobType:
    """What the job system knows about one kind of job.

    ``func`` is the core service: called with the validated params as keyword arguments plus
    ``progress`` and ``cancel``; it returns a small result (a dataclass, a dict or None).
    """

    name: str
    func: Callable[..., Any]
    label: str
    params: type[forms.Form] = NoParams
    description: str = ""
    # Attempts the queue makes before a transient failure or a lost worker becomes final.
    max_attempts: int = 3
    # Exceptions that are worth retrying; anything else fails at once.
    transient_errors: tuple[type[BaseException], ...] = ()
    # Priority relative to the trigger's default (a background refresh yields to the rest).
    priority: Priority | None = None
    # Returns a key shared by jobs that must not run at once (None: no such limit).
    dedupe: Callable[[Mapping[str, Any]], str | None] | None = None
    # The seed's ``window`` column for this run; default: the job type's name.
    window: Callable[[Mapping[str, Any]], str] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def validate(self, params: Mapping[str, Any] | None) -> dict[str, Any]:
        """Return the cleaned params or raise ``JobParamsError`` naming each bad field."""
        params = dict(params or {})
        form_class = self.params
        unknown = sorted(set(params) - set(form_class.base_fields))
        if unknown:
            expected = ", ".join(form_class.base_fields) or "no parameters"
            raise JobParamsError(
                self.name,
                {name: [f"unknown parameter (expected: {expected})."] for name in unknown},
            )
        # A bound form ignores ``initial``; missing params take the field's default instead.
        data = {
            name: f.initial
            for name, f in form_class.base_fields.items()
            if f.initial is not None and name not in params
        }
        data.update(params)
        form = form_class(data=data)
        if not form.is_valid():
            raise JobParamsError(
                self.name, {name: [str(e) for e in errs] for name, errs in form.errors.items()}
            )
        return dict(form.cleaned_data)

    def window_for(self, params: Mapping[str, Any]) -> str:
        return self.window(params) if self.window else self.name

    def dedupe_key_for(self, params: Mapping[str, Any]) -> str | None:
        return self.dedupe(params) if self.dedupe else None


_registry: dict[str, JobType] = {}


def register(job_type: JobType) -> JobType:
    """Add a job type; registering the same name twice is a programming error."""
    existing = _registry.get(job_type.name)
    if existing is not None and existing.func is not job_type.func:
        raise ValueError(f"job type {job_type.name!r} is already registered")
    _registry[job_type.name] = job_type
    return job_type


def unregister(name: str) -> None:
    _registry.pop(name, None)


def get(name: str) -> JobType:
    try:
        return _registry[name]
    except KeyError:
        raise UnknownJobType(name) from None


def is_registered(name: str) -> bool:
    return name in _registry


def all_types() -> list[JobType]:
    return sorted(_registry.values(), key=lambda t: t.name)
