"""The job-type registry.

Apps register their job types (in a ``jobs.py`` module, imported by ``JobsConfig.ready``).
One ``JobType`` drives everything generic: parameter validation in ``enqueue``, the API's
400s, the dashboard's start forms and ``manage.py jobs enqueue TYPE --param k=v``. The
parameters are a Django ``Form``: it parses strings (CLI, HTML forms) and JSON values alike,
names the field in its errors and renders itself; ``jobs.params`` has its strict, bounded
fields.
"""

from __future__ import annotations

import inspect
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from jobs.params import ParamsForm, check_bounded, clip, preview
from jobs.results import Presented, param_rows, present_default

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from django import forms

    from jobs.models import Priority

logger = logging.getLogger(__name__)


class JobError(Exception):
    """Base class of the job system's errors that a person can act on."""


class UnknownJobType(JobError):
    def __init__(self, name: str) -> None:
        known = ", ".join(sorted(_registry)) or "none registered"
        super().__init__(f"unknown job type {preview(name)} (known: {known})")
        self.name = name


class JobParamsError(JobError):
    """Parameters that do not fit the job type's spec; ``errors`` maps field → messages.

    Messages quote at most ``params.QUOTE_LIMIT`` characters of a value and name at most
    ``UNKNOWN_LISTED`` unknown parameters, so the error of a 2 MB body is of the usual size.
    """

    def __init__(self, job_type: str, errors: Mapping[str, list[str]]) -> None:
        self.job_type = job_type
        self.errors = dict(errors)
        detail = "; ".join(
            " ".join(messages)
            if name == NON_FIELD
            # A name that is no field's (junk) is quoted: the message stays one line.
            else f"{name if name.isidentifier() else preview(name)}: {' '.join(messages)}"
            for name, messages in self.errors.items()
        )
        super().__init__(f"invalid parameters for {job_type}: {detail}")


NON_FIELD = "__all__"
UNKNOWN_LISTED = 5


def _unknown(names: list[str], expected: str) -> dict[str, list[str]]:
    errors = {
        clip(name, 40): [f"unknown parameter (expected: {expected})."]
        for name in names[:UNKNOWN_LISTED]
    }
    if len(names) > UNKNOWN_LISTED:
        errors[NON_FIELD] = [f"and {len(names) - UNKNOWN_LISTED} more unknown parameters."]
    return errors


class NoParams(ParamsForm):
    """The spec of a job type that takes no parameters."""


@dataclass(frozen=True)
class JobType:
    """What the job system knows about one kind of job.

    ``func`` is the core service: called with the validated params as keyword arguments plus
    ``progress`` and ``cancel`` (and ``job_id`` if ``takes_job_id``); it returns a small
    result (a dataclass, a dict or None).
    """

    name: str
    func: Callable[..., Any]
    label: str
    params: type[ParamsForm] = NoParams
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
    # The runner also passes ``job_id`` (the JobRun's id) to ``func``, which records it.
    takes_job_id: bool = False
    # Cleaned params that stand for several runs (a playlist of "all" windows) → each run's
    # params; ``validate_each`` and ``services.enqueue_each`` take them, ``validate`` refuses.
    expand: Callable[[Mapping[str, Any]], list[dict[str, Any]]] | None = None
    # Where the dashboard offers it: under the heading ``group``, by ``rank`` (then label).
    group: str = ""
    rank: int = 100
    # The stored result (JSON) for people (``jobs.results``); None: ``present_default``.
    present: Callable[[Any], Presented] | None = None
    # The concurrency lane a limit applies to (``jobs.control``): types that name the same
    # lane share one limit (the three cache jobs); "": the type is a lane of its own.
    lane: str = ""

    @property
    def lane_name(self) -> str:
        return self.lane or self.name

    @property
    def resumable(self) -> bool:
        """Does ``func`` take a ``cursor`` (``jobs.checkpoint``)? Then a run that stopped
        early continues from its last checkpoint."""
        return "cursor" in inspect.signature(self.func).parameters

    def presented(self, result: Any) -> Presented:
        """The result for people; a presenter that fails on an old result's shape gives way
        to the default (logged), so no page fails on an old row. No result (a run that
        ended without one) is the default's "Done." without asking the presenter."""
        if self.present is not None and result is not None:
            try:
                return self.present(result)
            except Exception:
                logger.warning("presenter of %s failed on a result", self.name, exc_info=True)
        return present_default(result)

    def bind(self, params: Mapping[str, Any], **kwargs: Any) -> forms.Form:
        """The params form bound to ``params``, a missing field taking its initial value:
        the one meaning of "absent" on every route (a bound form ignores ``initial``)."""
        data: dict[str, Any] = {}
        for name, spec in self.params.base_fields.items():
            initial = spec.initial() if callable(spec.initial) else spec.initial
            if name not in params and initial is not None:
                data[name] = initial
        data.update(params)
        return self.params(data=data, **kwargs)

    def _clean(self, params: Mapping[str, Any] | None) -> dict[str, Any]:
        params = dict(params or {})
        fields = self.params.base_fields
        unknown = sorted(set(params) - set(fields))
        if unknown:
            raise JobParamsError(self.name, _unknown(unknown, ", ".join(fields) or "no parameters"))
        form = self.bind(params)
        if not form.is_valid():
            raise JobParamsError(
                self.name, {name: [str(e) for e in errs] for name, errs in form.errors.items()}
            )
        return dict(form.cleaned_data)

    def validate(self, params: Mapping[str, Any] | None) -> dict[str, Any]:
        """Return the cleaned params of one run or raise ``JobParamsError`` naming each bad
        field; params that stand for several runs (``expand``) are refused here."""
        cleaned = self._clean(params)
        if self.expand is not None and len(runs := self.expand(cleaned)) != 1:
            raise JobParamsError(
                self.name,
                {NON_FIELD: [f"these parameters stand for {len(runs)} jobs; start one at a time."]},
            )
        return cleaned

    def validate_each(self, params: Mapping[str, Any] | None) -> list[dict[str, Any]]:
        """The cleaned params of every run that ``params`` stand for (``expand``): one list
        entry for most params, one per window for a playlist of all windows."""
        cleaned = self._clean(params)
        if self.expand is None:
            return [cleaned]
        return [self.validate(each) for each in self.expand(cleaned)]

    def window_for(self, params: Mapping[str, Any]) -> str:
        return self.window(params) if self.window else self.name

    def dedupe_key_for(self, params: Mapping[str, Any]) -> str | None:
        return self.dedupe(params) if self.dedupe else None


_registry: dict[str, JobType] = {}


def register(job_type: JobType) -> JobType:
    """Add a job type; registering the same name twice, or a params form that would take
    unbounded input (``params.check_bounded``), is a programming error."""
    check_bounded(job_type.params)
    if job_type.lane and job_type.lane != job_type.name and job_type.lane in _registry:
        raise ValueError(f"lane {job_type.lane!r} of {job_type.name!r} is a job type's name")
    if any(other.lane == job_type.name for other in _registry.values()):
        raise ValueError(f"job type {job_type.name!r} is already the name of a lane")
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


def lane_of(job_type: str) -> str:
    """The lane a run of ``job_type`` counts in; a type no longer registered is its own."""
    spec = _registry.get(job_type)
    return spec.lane_name if spec is not None else job_type


def lane_members() -> dict[str, list[str]]:
    """Every lane and the job types in it, by name."""
    lanes: dict[str, list[str]] = {}
    for spec in all_types():
        lanes.setdefault(spec.lane_name, []).append(spec.name)
    return lanes


def presented(job_type: str, result: Any) -> Presented:
    """``result`` for people, also of a job type that is no longer registered."""
    spec = _registry.get(job_type)
    return spec.presented(result) if spec is not None else present_default(result)


def params_for_people(job_type: str, params: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """A run's parameters for people, also of a job type that is no longer registered."""
    spec = _registry.get(job_type)
    return param_rows(spec.params.base_fields if spec is not None else {}, params)
