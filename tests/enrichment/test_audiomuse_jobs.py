"""audiomuse-sync as a job: its spec, the CLI route in a subprocess, a real cluster."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from enrichment.fakes import FakeAudioMuse, Library
from enrichment.models import AudioFeatures
from jobs import registry, services
from jobs.models import ACTIVE_STATUSES, JobRun, JobStatus, Trigger
from tests.cluster import manage, wait_for

TOKEN = "test-audiomuse-token"


@pytest.fixture
def fake(library: Library) -> Iterator[FakeAudioMuse]:
    with FakeAudioMuse(library, token=TOKEN) as server:
        yield server


def env_for(fake: FakeAudioMuse, **extra: str) -> dict[str, str]:
    return {"PLAYLISTER_AUDIOMUSE_URL": fake.url, "PLAYLISTER_AUDIOMUSE_TOKEN": TOKEN, **extra}


def run(*args: str, env: dict[str, str], timeout: float = 60) -> tuple[int, str, str]:
    proc = manage(*args, env=env)
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def test_the_job_type_is_registered_with_its_policy() -> None:
    spec = registry.get("audiomuse-sync")
    assert spec.label == "Sync AudioMuse-AI features"
    assert spec.max_attempts == 5
    assert spec.dedupe_key_for({}) == spec.dedupe_key_for({"dry_run": True}) == "audiomuse-sync"
    assert spec.validate({}) == {"dry_run": False}
    assert spec.validate({"dry_run": "true"}) == {"dry_run": True}
    with pytest.raises(registry.JobParamsError, match="concurrency"):
        spec.validate({"concurrency": 2})


@pytest.mark.django_db(transaction=True)
def test_the_command_syncs_and_records_a_cli_row(fake) -> None:
    code, out, err = run("sync_audiomuse", env=env_for(fake))
    assert code == 0, err
    job = JobRun.objects.get()
    assert (job.job_type, job.status, job.trigger) == ("audiomuse-sync", JobStatus.SUCCESS, "cli")
    total = len(fake.ids())
    assert job.result is not None and job.result["created"] == total
    assert job.progress_current == job.progress_total == total
    assert f"Job {job.pk} succeeded" in out
    assert AudioFeatures.objects.count() == total
    assert TOKEN not in out + err


@pytest.mark.django_db(transaction=True)
def test_the_command_s_dry_run_flag_writes_nothing(fake) -> None:
    code, _out, err = run("sync_audiomuse", "--dry-run", "--scheduled", env=env_for(fake))
    assert code == 0, err
    job = JobRun.objects.get()
    assert (job.trigger, job.params) == (Trigger.SCHEDULE, {"dry_run": True})
    assert job.result is not None and job.result["dry_run"] is True
    assert not AudioFeatures.objects.exists()
    assert fake.full_payload_requests == 0


@pytest.mark.django_db(transaction=True)
def test_the_command_without_a_url_fails_with_one_line_naming_the_setting(fake) -> None:
    code, _out, err = run("sync_audiomuse", env=env_for(fake, PLAYLISTER_AUDIOMUSE_URL=""))
    assert code == 1
    job = JobRun.objects.get()
    assert job.status == JobStatus.FAILED
    assert "PLAYLISTER_AUDIOMUSE_URL" in job.error and "\n" not in job.error
    # The runner logs the traceback; the person reads the last line.
    assert err.strip().splitlines()[-1] == f"Job {job.pk} failed: {job.error}"
    assert fake.request_count() == 0


@pytest.mark.cluster
@pytest.mark.django_db(transaction=True)
def test_a_queued_sync_runs_on_a_real_cluster(fake, cluster_factory) -> None:
    cluster_factory.new(**env_for(fake))
    job_id = services.enqueue(job_type="audiomuse-sync").pk
    job = wait_for(
        lambda: JobRun.objects.filter(pk=job_id).exclude(status__in=ACTIVE_STATUSES).first(),
        timeout=60,
        what="the sync job to end",
    )
    assert job.status == JobStatus.SUCCESS, job.error
    total = len(fake.ids())
    assert job.result == {
        "listed": total,
        "fetched": total,
        "created": total,
        "updated": 0,
        "deleted": 0,
        "unchanged": 0,
        "dry_run": False,
    }
    assert job.source_counts == {"audiomuse": total}
    assert AudioFeatures.objects.count() == total


@pytest.mark.cluster
@pytest.mark.django_db(transaction=True)
def test_an_unavailable_server_makes_the_job_retry_later_and_then_succeed(
    fake, cluster_factory
) -> None:
    AudioFeatures.objects.create(rating_key="kept-while-unavailable", fingerprint="x")
    fake.fail(None, retry_after=1)
    cluster_factory.new(**env_for(fake, PLAYLISTER_HTTP_ATTEMPTS="1"))
    job_id = services.enqueue(job_type="audiomuse-sync").pk
    # Polled, not timed: the backoff is ~1 s, so a slow poll may find attempt 2 waiting.
    waiting = wait_for(
        lambda: JobRun.objects.filter(pk=job_id, status=JobStatus.QUEUED).exclude(error="").first(),
        timeout=30,
        what="an attempt to fail transiently",
    )
    assert re.search(r"Attempt \d of 5 failed: .*503", waiting.error), waiting.error
    assert AudioFeatures.objects.filter(rating_key="kept-while-unavailable").exists()
    fake.recover()
    job = wait_for(
        lambda: JobRun.objects.filter(pk=job_id, status=JobStatus.SUCCESS).first(),
        timeout=30,
        what="the retry to succeed",
    )
    assert job.attempt >= 2
    assert AudioFeatures.objects.count() == len(fake.ids())
