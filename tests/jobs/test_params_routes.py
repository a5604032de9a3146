"""One meaning of a parameter on every route (DESIGN.md §6): a JSON body, form data, the
dashboard's start form as a browser submits it, ``manage.py jobs enqueue TYPE --param k=v``
and the type's own command with its flags all give the same job, or the same error, for the
same values, and an absent field takes the same default everywhere."""

from __future__ import annotations

import io
import json
from html.parser import HTMLParser
from urllib.parse import urlencode

import pytest
from django import forms
from django.core.management import CommandError, call_command, get_commands, load_command_class
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from jobs import params, registry
from jobs.cli import JobCommand
from jobs.models import JobRun
from tests.jobs.junk import JUNK_SETTINGS, minimal_params, text_values

pytestmark = pytest.mark.django_db

ALL_TYPES = [spec.name for spec in registry.all_types()]


def _commands() -> dict[str, tuple[str, JobCommand]]:
    found: dict[str, tuple[str, JobCommand]] = {}
    for name, app in get_commands().items():
        command = load_command_class(app, name)
        if isinstance(command, JobCommand) and command.job_type:
            found.setdefault(command.job_type, (name, command))
    return found


COMMANDS = _commands()


@pytest.fixture
def client(django_user_model) -> Client:
    user = django_user_model.objects.create_user(username="routes", password="s3cret-pass")
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.get("/")
    return client


def _outcome_of_response(response) -> tuple[str, object]:
    if response.status_code in (200, 202):
        return "ok", JobRun.objects.get(pk=response.json()["jobId"]).params
    assert response.status_code == 400, response.content[:300]
    return "error", response.json()["error"]


def _outcome_of_command(*args: str) -> tuple[str, object]:
    out = io.StringIO()
    try:
        call_command(*args, stdout=out, stderr=io.StringIO())
    except CommandError as exc:
        return "error", str(exc)
    return "ok", JobRun.objects.get(pk=int(out.getvalue().split()[-1])).params


def _fresh(outcome: tuple[str, object]) -> tuple[str, object]:
    # Unique job types hand back the active job: each route starts from an empty queue.
    JobRun.objects.all().delete()
    return outcome


def routes(client: Client, job_type: str, given: dict[str, str]) -> dict[str, tuple[str, object]]:
    """The outcome of ``given`` (field → text) on every route that can say it."""
    token = {"X-CSRFToken": client.cookies["csrftoken"].value}
    path = f"/actions/{job_type}/start"
    found = {
        "json": _fresh(
            _outcome_of_response(
                client.post(path, json.dumps(given), "application/json", headers=token)
            )
        ),
        "form": _fresh(
            _outcome_of_response(
                client.post(
                    path, urlencode(given), "application/x-www-form-urlencoded", headers=token
                )
            )
        ),
        "--param": _fresh(
            _outcome_of_command(
                "jobs", "enqueue", job_type, *(f"--param={k}={v}" for k, v in given.items())
            )
        ),
    }
    if job_type in COMMANDS:
        name, command = COMMANDS[job_type]
        spec = registry.get(job_type)
        args, sayable = [], True
        for key in command.skip_params:  # positional (a window)
            choices = getattr(spec.params.base_fields[key], "choices", [])
            sayable &= given.get(key) in dict(choices)
            args.append(given.get(key, ""))
        for key, value in given.items():
            if key in command.skip_params:
                continue
            option = key.replace("_", "-")
            if isinstance(spec.params.base_fields[key], forms.BooleanField):
                flag = params.parse_bool(value)
                sayable &= flag is not None  # a flag is on or off, never "maybe"
                args.append(f"--{option}" if flag else f"--no-{option}")
            else:
                args.append(f"--{option}={value}")
        if sayable:
            found[name] = _fresh(_outcome_of_command(name, *args, "--enqueue"))
    return found


@JUNK_SETTINGS
@given(job_type=st.sampled_from(ALL_TYPES), data=st.data())
def test_every_route_gives_the_same_job_or_the_same_error(client, job_type, data):
    spec = registry.get(job_type)
    names = list(spec.params.base_fields)
    chosen = data.draw(st.lists(st.sampled_from(names), unique=True)) if names else []
    given = {name: data.draw(text_values, label=name) for name in chosen}
    for key, value in minimal_params(spec).items():
        given.setdefault(key, str(value))
    found = routes(client, job_type, given)
    assert len(set(map(repr, found.values()))) == 1, found


@pytest.mark.parametrize("job_type", ALL_TYPES)
def test_absent_fields_take_the_same_defaults_on_every_route(client, job_type):
    spec = registry.get(job_type)
    given = {key: str(value) for key, value in minimal_params(spec).items()}
    found = routes(client, job_type, given)
    assert len(found) >= 3
    ((kind, cleaned),) = set((k, json.dumps(v, sort_keys=True)) for k, v in found.values())
    assert kind == "ok"
    for name, field in spec.params.base_fields.items():
        if name not in given and field.initial is not None:
            assert json.loads(cleaned)[name] == field.initial, name


# -- the dashboard's start forms, as a browser submits them ------------------------------------
class _Forms(HTMLParser):
    """Each start form's controls in document order, with what a browser would send."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: dict[str, list[dict[str, str | None]]] = {}
        self._form: str | None = None
        self._select: dict[str, str | None] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form" and (a.get("id") or "").startswith("start-"):
            self._form = str(a["id"]).removeprefix("start-")
            self.forms[self._form] = []
        elif self._form and tag == "input" and a.get("name"):
            self.forms[self._form].append(a)
        elif self._form and tag == "select":
            self._select = {"name": a["name"], "type": "select", "value": None}
            self.forms[self._form].append(self._select)
        elif (
            self._select is not None
            and tag == "option"
            and (self._select["value"] is None or "selected" in a)
        ):
            self._select["value"] = a.get("value")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


def _submitted(controls, ticks: dict[str, bool], typed: dict[str, object]) -> list[tuple[str, str]]:
    """The form's data set: a checkbox only when ticked ("on" unless it has a value), an
    empty text box as ``typed`` says (a required marker)."""
    sent = []
    for c in controls:
        if c.get("type") == "checkbox":
            if ticks.get(c["name"], "checked" in c):
                sent.append((c["name"], c.get("value") or "on"))
        else:
            sent.append((c["name"], c.get("value") or str(typed.get(c["name"], ""))))
    return sent


def _post_form(client: Client, job_type: str, data: list[tuple[str, str]]) -> object:
    response = client.post(
        f"/actions/{job_type}/start", urlencode(data), "application/x-www-form-urlencoded"
    )
    assert response.status_code == 202, response.content[:300]
    job = JobRun.objects.get(pk=response.json()["jobId"])
    JobRun.objects.all().delete()
    return job.params


@pytest.mark.parametrize("job_type", ALL_TYPES)
def test_the_dashboard_form_means_what_it_shows(client, job_type):
    html = client.get("/").content.decode()
    parser = _Forms()
    parser.feed(html)
    controls = parser.forms[job_type]
    spec = registry.get(job_type)
    token = {"X-CSRFToken": client.cookies["csrftoken"].value}
    defaults = client.post(
        f"/actions/{job_type}/start",
        json.dumps(minimal_params(spec)),
        "application/json",
        headers=token,
    ).json()["jobId"]
    expected = JobRun.objects.get(pk=defaults).params
    JobRun.objects.all().delete()
    # Untouched, the form starts what an empty JSON body (plus the first choices) starts.
    typed = minimal_params(spec)
    assert _post_form(client, job_type, _submitted(controls, {}, typed)) == expected
    for name, field in spec.params.base_fields.items():
        if isinstance(field, forms.BooleanField):
            # A ticked box means true and an unticked one false, whatever the default.
            for ticked in (True, False):
                sent = _post_form(client, job_type, _submitted(controls, {name: ticked}, typed))
                assert sent[name] is ticked, (name, ticked)
