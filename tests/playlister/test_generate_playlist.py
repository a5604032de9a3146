"""``manage.py generate_playlist WINDOW|all``: one job per window, queued or run here; a
failed window does not stop the others (no Plex is configured here, so every run fails)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from jobs.models import JobRun, JobStatus, Trigger
from playlister.windows import Window

pytestmark = pytest.mark.django_db


def _call(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("generate_playlist", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_all_windows_are_queued_one_id_a_line_and_again_they_are_already_queued():
    out, err = _call("all", "--enqueue")
    jobs = list(JobRun.objects.order_by("id"))
    assert out.split() == [str(job.pk) for job in jobs]
    assert [job.window for job in jobs] == list(Window)
    assert {(job.status, job.trigger) for job in jobs} == {(JobStatus.QUEUED, Trigger.CLI)}
    assert err == ""

    again, err = _call("all", "--enqueue")
    assert again == out  # the same jobs: each window's job is already queued
    assert err.count("is already queued") == len(Window)
    assert JobRun.objects.count() == len(Window)


def test_a_failed_window_does_not_stop_the_others_and_the_command_exits_1():
    with pytest.raises(SystemExit) as exited:
        _call("all", "--scheduled")
    assert exited.value.code == 1
    runs = list(JobRun.objects.order_by("id"))
    assert [run.window for run in runs] == list(Window)
    assert {run.status for run in runs} == {JobStatus.FAILED}


def test_one_failed_window_exits_1_at_once():
    with pytest.raises(SystemExit) as exited:
        _call("morning", "--scheduled")
    assert exited.value.code == 1
    assert JobRun.objects.get().status == JobStatus.FAILED
