"""``manage.py jobs pause|unpause|limit|queue`` as a person runs them (issue 15 item 4)."""

from __future__ import annotations

import pytest

from jobs import control
from jobs.models import JobLane, JobRun, JobStatus
from tests.cluster import manage

pytestmark = pytest.mark.django_db(transaction=True)


def run(*args: str) -> tuple[int, str, str]:
    proc = manage("jobs", *args)
    out, err = proc.communicate(timeout=60)
    return proc.returncode, out, err


def test_pause_limit_queue_and_unpause():
    code, out, err = run("pause", "test-lane-a")
    assert code == 0, err
    assert out.startswith("test-lane-a paused by cli at ")
    code, out, err = run("limit", "test-lane", "2")
    assert (code, out.strip()) == (0, "test-lane: at most 2 at once."), err
    code, out, err = run("queue")
    assert code == 0, err
    assert out.splitlines()[0] == "Queue running."
    row = next(line for line in out.splitlines() if line.startswith("test-lane "))
    assert row.split()[1:] == ["test-lane-a,", "test-lane-b", "2", "0"]
    assert "test-lane-a paused by cli at" in out

    assert run("unpause", "test-lane-a")[1].strip() == "test-lane-a running."
    assert run("unpause", "test-lane-a")[1].strip() == "test-lane-a was not paused."
    assert run("limit", "test-lane", "none")[1].strip() == "test-lane: no limit."
    assert JobLane.objects.get(name="test-lane").max_running is None


def test_pausing_the_queue_shows_in_list_and_stats_and_a_direct_run_still_runs():
    assert run("pause")[0] == 0
    code, out, _ = run("list")
    assert code == 0
    assert out.startswith("Queue paused by cli at ")
    assert "Queue paused by cli at " in run("stats")[1]
    proc = manage("run_steps", "--steps", "2", "--step-ms", "0")
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "the queue is paused for test-steps (cli); running it here" in err
    assert JobRun.objects.get().status == JobStatus.SUCCESS


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["pause", "nope"], "no job type or lane named 'nope'"),
        (["unpause", "nope"], "no job type or lane named"),
        (["limit", "nope", "1"], "no lane named"),
        (["limit", "test-lane-a", "1"], "test-lane-a runs in the lane test-lane"),
        (["limit", "test-lane", "0"], "from 1 to 1000"),
        (["limit", "test-lane", "many"], "from 1 to 1000"),
        (["limit", "test-lane", "99999999999"], "from 1 to 1000"),
        (["pause", "x" * 5000], "invalid"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_changes_nothing(args, message):
    code, _out, err = run(*args)
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err
    assert not JobLane.objects.exists()
    assert control.queue_state().queue is None
