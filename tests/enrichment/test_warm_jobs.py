"""Enrichment jobs through the job system: real clusters and real commands."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from enrichment.fakes import FaultPlan
from enrichment.models import ArtistCache
from enrichment.names import normalize_name
from enrichment.ratelimit import WINDOW_MARGIN
from jobs import live, services
from jobs.models import JobRun, JobStatus, Trigger
from tests.cluster import BASE_DIR, enqueue_concurrently, subprocess_env, wait_for
from tests.enrichment.helpers import env_for, library_of, start

pytestmark = [pytest.mark.cluster, pytest.mark.django_db(transaction=True)]


def test_cancel_stops_a_warm_within_a_second_even_in_a_retry_after_wait(cluster_factory):
    with start(library_of(150, seed=9)) as fakes:
        cluster_factory.new(**env_for(fakes, PLAYLISTER_LASTFM_RATE="40"))
        job_id = services.enqueue(job_type="cache-warm", params={"concurrency": 2}).pk
        wait_for(
            lambda: (p := live.read_progress(job_id)) is not None and p.current >= 60,
            timeout=90,
            what="60 artists done",
        )
        fakes.lastfm.set_faults(FaultPlan(rate_429=1.0, retry_after=30))
        wait_for(
            lambda: any(r.status == 429 for r in fakes.lastfm.records()),
            timeout=10,
            what="a 429 to wait out",
        )
        asked = time.monotonic()
        services.cancel_job(job_id=job_id)
        wait_for(
            lambda: JobRun.objects.get(pk=job_id).status != JobStatus.RUNNING,
            timeout=5,
            interval=0.01,
        )
        took = time.monotonic() - asked
    job = JobRun.objects.get(pk=job_id)
    assert job.status == JobStatus.CANCELLED
    assert took < 1.0, took
    kept = ArtistCache.objects.all()
    assert kept.count() >= 50  # what finished before the cancel stays
    assert all(row.genres and row.sources and row.expires_at for row in kept)


def test_two_enrichment_jobs_together_keep_the_lastfm_rate(cluster_factory):
    with start(library_of(14, seed=4, albums_per_artist=(2, 2))) as fakes:
        cluster_factory.new(**env_for(fakes, PLAYLISTER_LASTFM_RATE="5"))
        warm = services.enqueue(job_type="cache-warm", params={"concurrency": 4}).pk
        albums = services.enqueue(job_type="cache-albums", params={"concurrency": 4}).pk
        wait_for(
            lambda: (
                JobRun.objects.filter(pk__in=[warm, albums], status=JobStatus.RUNNING).count() == 2
                or JobRun.objects.filter(pk=warm, status=JobStatus.SUCCESS).exists()
            ),
            timeout=20,
        )
        wait_for(
            lambda: (
                JobRun.objects.filter(pk__in=[warm, albums], status=JobStatus.SUCCESS).count() == 2
            ),
            timeout=120,
            what="both jobs to succeed",
        )
        workers = set(JobRun.objects.filter(pk__in=[warm, albums]).values_list("worker", flat=True))
        total = fakes.lastfm.request_count()
        # Requests leave at most 5 in any 1.05 s; they arrive with the scheduling jitter of
        # two workers and of this process, where the fakes run (over 50 ms on a loaded
        # machine). Two limiters that did not share would let 10 through in any window.
        peak = fakes.lastfm.max_in_window(1.0 - 2 * WINDOW_MARGIN)
    assert len(workers) == 2  # two worker processes shared the limit
    assert total >= 40
    assert peak <= 5, peak


def test_warm_cache_command_shows_a_bar_and_fills_the_cache():
    library = library_of(25, seed=2)
    with start(library) as fakes:
        proc = subprocess.run(
            [sys.executable, "manage.py", "warm_cache", "--concurrency", "3"],
            cwd=BASE_DIR,
            env=subprocess_env(**env_for(fakes)),
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert proc.returncode == 0, proc.stderr
    assert "Warm the artist cache" in proc.stderr and "25/25" in proc.stderr
    assert "lastfm=" in proc.stderr and "plex=" in proc.stderr
    job = JobRun.objects.get()
    assert (job.job_type, job.trigger, job.status) == ("cache-warm", Trigger.CLI, JobStatus.SUCCESS)
    assert job.result["written"] == 25
    names = {normalize_name(a.title) for a in library.artists}
    assert ArtistCache.objects.count() == len(names) < 25  # one entry per name


def test_five_concurrent_enqueues_of_cache_warm_make_one_job():
    jobs = enqueue_concurrently("cache-warm", {"concurrency": 2}, count=5)
    assert len({job.pk for job in jobs}) == 1
    assert sum(1 for job in jobs if job.deduplicated) == 4
    assert JobRun.objects.filter(job_type="cache-warm").count() == 1
