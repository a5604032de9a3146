"""Fault injection on real clusters: nothing is lost, nothing runs twice at once."""

from __future__ import annotations

import itertools
import os
import signal

import pytest
import redis
from django.conf import settings
from django.db import transaction

from jobs import services
from jobs.models import JobRun, JobStatus, Trigger
from tests.cluster import enqueue_concurrently, marker_events, max_overlap, wait_for

pytestmark = [pytest.mark.cluster, pytest.mark.django_db(transaction=True)]

scaled_only = pytest.mark.skipif(not settings.REDIS_URL, reason="needs the Redis broker")


def _all_finished(ids: list[int]) -> bool:
    return not JobRun.objects.filter(pk__in=ids).exclude(status=JobStatus.SUCCESS).exists()


def test_a_killed_worker_job_runs_again_once(cluster_factory, tmp_path):
    cluster = cluster_factory.new()
    marker = tmp_path / "job"
    job_id = services.enqueue(
        job_type="test-steps", params={"steps": 40, "step_ms": 50, "marker": str(marker)}
    ).pk
    wait_for(
        lambda: (
            JobRun.objects.filter(pk=job_id, progress_current__gt=0).exists()
            or (marker_events(marker) and JobRun.objects.get(pk=job_id).status == JobStatus.RUNNING)
        ),
        timeout=20,
    )
    job = JobRun.objects.get(pk=job_id)
    pid = int(job.worker.rpartition(":")[2])
    assert pid in cluster.worker_pids()
    os.kill(pid, signal.SIGKILL)
    killed_at = marker_events(marker)[-1][2]

    wait_for(lambda: JobRun.objects.get(pk=job_id).status == JobStatus.SUCCESS, timeout=90)
    job = JobRun.objects.get(pk=job_id)
    assert job.attempt == 2
    events = marker_events(marker)
    starts = [e for e in events if e[0] == "start"]
    assert [e[0] for e in events] == ["start", "start", "done"]
    assert starts[0][1] == pid and starts[1][1] != pid
    # the second attempt began after the first one's process was gone
    assert starts[1][2] >= killed_at


def test_stopping_the_cluster_requeues_running_jobs_and_loses_nothing(cluster_factory, tmp_path):
    first = cluster_factory.new()
    markers = [tmp_path / f"job-{i}" for i in range(22)]
    with transaction.atomic():
        ids = [
            # 1.8 s each: the two running ones are still at it when their reporters see
            # the stop (within a second); a stopping cluster starts nothing more.
            services.enqueue(
                job_type="test-steps", params={"steps": 30, "step_ms": 60, "marker": str(m)}
            ).pk
            for m in markers
        ]
    wait_for(
        lambda: (
            JobRun.objects.filter(status=JobStatus.RUNNING, progress_current__gt=0).count() == 2
        ),
        timeout=20,
        what="two running jobs",
    )
    first.stop()
    assert not JobRun.objects.filter(pk__in=ids, status=JobStatus.RUNNING).exists()
    requeued = JobRun.objects.filter(pk__in=ids, progress_message__startswith="Requeued")
    assert requeued.count() >= 1

    cluster_factory.new()
    wait_for(lambda: _all_finished(ids), timeout=90, what="all 22 jobs to succeed")
    for marker in markers:
        assert sum(1 for e in marker_events(marker) if e[0] == "done") == 1, marker
    assert all(j.attempt == 1 for j in JobRun.objects.filter(pk__in=ids))


@scaled_only
def test_a_flushed_redis_loses_no_queued_job(cluster_factory, tmp_path):
    cluster_factory.new()
    blockers = [
        services.enqueue(job_type="test-steps", params={"steps": 30, "step_ms": 50}).pk
        for _ in range(2)
    ]
    wait_for(
        lambda: JobRun.objects.filter(pk__in=blockers, status=JobStatus.RUNNING).count() == 2,
        timeout=20,
    )
    with transaction.atomic():
        ids = [
            services.enqueue(job_type="test-steps", params={"steps": 2, "step_ms": 10}).pk
            for _ in range(10)
        ]
    redis.Redis.from_url(settings.REDIS_URL).flushdb()
    wait_for(lambda: _all_finished([*ids, *blockers]), timeout=90, what="all jobs to succeed")


def test_transient_failures_are_retried_with_growing_delays(cluster_factory, tmp_path):
    cluster_factory.new()
    marker = tmp_path / "flaky"
    job_id = services.enqueue(
        job_type="test-flaky", params={"marker": str(marker), "fail_times": 2}
    ).pk
    wait_for(
        lambda: (
            JobRun.objects.filter(pk=job_id, status=JobStatus.QUEUED, attempt=1)
            .exclude(error="")
            .exists()
            or JobRun.objects.get(pk=job_id).attempt > 1
        ),
        timeout=20,
    )
    waiting = JobRun.objects.get(pk=job_id)
    if waiting.attempt == 1:
        assert "Attempt 1 of 3 failed: Provider answered 503" in waiting.error
        assert "next attempt at" in waiting.error
    job = wait_for(
        lambda: JobRun.objects.filter(pk=job_id, status=JobStatus.SUCCESS).first(), timeout=30
    )
    assert job.attempt == 3
    times = [e[2] for e in marker_events(marker)]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert 0.8 <= gaps[0] < 1.2 + 1.0  # ~1 s backoff (+ jitter, + claim latency)
    assert gaps[1] > gaps[0]  # ~2 s
    assert job.result == {"attempts": 3}


def test_retry_after_from_the_provider_wins_over_the_backoff(cluster_factory, tmp_path):
    cluster_factory.new()
    marker = tmp_path / "flaky"
    job_id = services.enqueue(
        job_type="test-flaky", params={"marker": str(marker), "fail_times": 1, "retry_after": 3}
    ).pk
    wait_for(
        lambda: JobRun.objects.filter(pk=job_id, status=JobStatus.SUCCESS).exists(), timeout=30
    )
    first, second = (e[2] for e in marker_events(marker))
    assert 3.0 <= second - first < 5.0


def test_a_permanent_error_is_not_retried(cluster_factory, tmp_path):
    cluster_factory.new()
    marker = tmp_path / "flaky"
    job_id = services.enqueue(
        job_type="test-flaky", params={"marker": str(marker), "fail_times": 5, "permanent": True}
    ).pk
    job = wait_for(
        lambda: JobRun.objects.filter(pk=job_id, status=JobStatus.FAILED).first(), timeout=20
    )
    assert job.attempt == 1
    assert job.error == "The input is wrong and will stay wrong"
    assert len(marker_events(marker)) == 1


def test_a_person_s_job_runs_before_scheduled_ones(cluster_factory):
    cluster_factory.new()
    hold = services.enqueue(job_type="test-steps", params={"steps": 10_000, "step_ms": 50}).pk
    short = services.enqueue(job_type="test-steps", params={"steps": 1, "step_ms": 300}).pk
    wait_for(
        lambda: JobRun.objects.filter(pk__in=[hold, short], status=JobStatus.RUNNING).count() == 2,
        timeout=20,
    )
    quick = {"steps": 1, "step_ms": 10}
    with transaction.atomic():
        scheduled = services.enqueue(
            job_type="test-steps", params=quick, trigger=Trigger.SCHEDULE
        ).pk
        cli = services.enqueue(job_type="test-steps", params=quick, trigger=Trigger.CLI).pk
        web = services.enqueue(job_type="test-steps", params=quick, trigger=Trigger.WEB).pk
    wait_for(lambda: _all_finished([scheduled, cli, web]), timeout=30)
    services.cancel_job(job_id=hold)
    order = JobRun.objects.filter(pk__in=[scheduled, cli, web]).order_by("started_at")
    assert [j.pk for j in order] == [cli, web, scheduled]


@scaled_only
def test_two_clusters_share_the_queue_and_each_job_runs_once(cluster_factory, tmp_path):
    clusters = [cluster_factory.new("a"), cluster_factory.new("b")]
    markers = [tmp_path / f"job-{i}" for i in range(24)]
    with transaction.atomic():
        ids = [
            services.enqueue(
                job_type="test-steps", params={"steps": 4, "step_ms": 50, "marker": str(m)}
            ).pk
            for m in markers
        ]
    wait_for(lambda: _all_finished(ids), timeout=90, what="all jobs to succeed")
    for marker in markers:
        assert [e[0] for e in marker_events(marker)] == ["start", "done"], marker
    jobs = list(JobRun.objects.filter(pk__in=ids))
    pids = [set(c.worker_pids()) for c in clusters]
    for cluster_pids in pids:
        mine = [j for j in jobs if int(j.worker.rpartition(":")[2]) in cluster_pids]
        assert max_overlap(mine) <= 2
    assert len({int(j.worker.rpartition(":")[2]) for j in jobs} & (pids[0] | pids[1])) > 2


def test_concurrent_enqueues_of_a_unique_type_make_one_job():
    jobs = enqueue_concurrently("test-unique", {"steps": 1}, count=5)
    assert len({job.pk for job in jobs}) == 1
    assert sum(1 for job in jobs if job.deduplicated) == 4
    assert JobRun.objects.filter(job_type="test-unique").count() == 1
