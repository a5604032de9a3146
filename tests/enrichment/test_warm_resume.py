"""A stopped cache warm continues after the last item it stored (issue 15 item 1).

Killed (SIGKILL, then rescued) or stopped gracefully (requeued), a real cluster's next
attempt asks Last.fm only about the artists beyond the cursor; its progress and result
cover the whole run. The cursor is a rating key, so a library that changed meanwhile is
resumed correctly. Requests are counted at the fake servers.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import replace
from datetime import timedelta

import pytest
from django.utils import timezone

from enrichment.cache_writer import WRITE_BATCH
from enrichment.fakes import Library
from enrichment.models import AlbumCache, ArtistCache
from enrichment.warm import warm_album_cache, warm_artist_cache
from jobs import maintenance, services
from jobs.cancel import CancelEvent
from jobs.checkpoint import Checkpoint, resumed_text
from jobs.models import JobRun, JobStatus
from jobs.progress import NullProgress
from jobs.runner import execute, run_direct
from tests.cluster import manage, wait_for
from tests.enrichment.helpers import configure, env_for, library_of, start
from tests.jobs.test_checkpoint import CancelAt

ARTISTS = 300
# Slow enough to stop it midway on a loaded machine (15 s of Last.fm requests), fast
# enough to finish in seconds after it.
RATE = "20"


def artists_asked(fakes, *, since: float = 0.0) -> Counter[str]:
    return Counter(
        r.query.get("artist", "")
        for r in fakes.lastfm.records()
        if r.at >= since and r.query.get("method") == "artist.getTopTags"
    )


def split_at(library: Library, cursor: object) -> tuple[set[str], set[str]]:
    """Titles of the artists at or before a warm cursor, and those after it (a title shared
    by both sides is left out: it says nothing about which one was asked)."""
    after = Checkpoint.from_json(cursor)
    assert after is not None
    last = int(after.cursor["after"][1])
    before = {a.title for a in library.artists if a.rating_key <= last}
    beyond = {a.title for a in library.artists if a.rating_key > last}
    return before - beyond, beyond - before


def checkpointed(job_id: int, at_least: int) -> Checkpoint | None:
    saved = Checkpoint.from_json(JobRun.objects.get(pk=job_id).checkpoint)
    return saved if saved is not None and saved.current >= at_least else None


def assert_whole_run(job: JobRun) -> None:
    """The result and progress of a resumed warm cover all of it, not its last part."""
    result = job.result
    assert result is not None
    assert result["total"] == ARTISTS
    assert result["cached"] + result["failed"] + result["empty"] + result["written"] == ARTISTS
    assert job.progress_current == ARTISTS
    assert ArtistCache.objects.count() > 0


@pytest.mark.cluster
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("stop", ["sigkill", "graceful"])
def test_a_stopped_warm_goes_on_from_its_cursor(cluster_factory, stop):
    library = library_of(ARTISTS, seed=5)
    with start(library) as fakes:
        env = env_for(fakes, PLAYLISTER_LASTFM_RATE=RATE)
        cluster = cluster_factory.new(**env)
        job_id = services.enqueue(
            job_type="cache-warm", params={"concurrency": 2, "skip_cached": False}
        ).pk
        seen = wait_for(lambda: checkpointed(job_id, 60), timeout=90, what="a checkpoint at 60")
        seen_status = JobRun.objects.values_list("status", flat=True).get(pk=job_id)
        if stop == "sigkill":
            cluster.kill()
        else:
            cluster.stop()
        stopped = time.monotonic()
        row = JobRun.objects.get(pk=job_id)
        saved = Checkpoint.from_json(row.checkpoint)
        assert saved is not None
        ended_early = (
            f"the warm was {seen_status} when its checkpoint at {seen.current} was seen, "
            f"{len(artists_asked(fakes))} artists asked of Last.fm"
        )
        if stop == "sigkill":
            assert row.status == JobStatus.RUNNING, ended_early  # nobody recorded its end
            assert maintenance.rescue_lost_jobs().requeued == 1
        else:
            assert (row.status, row.attempt) == (JobStatus.QUEUED, 0)  # the stop used none
            assert row.progress_current == saved.current  # shown where it will go on
        asked_before = artists_asked(fakes)
        cluster_factory.new(**env)
        wait_for(
            lambda: JobRun.objects.get(pk=job_id).status == JobStatus.SUCCESS,
            timeout=120,
            what="the resumed warm to succeed",
        )
        asked_after = artists_asked(fakes, since=stopped)
    job = JobRun.objects.get(pk=job_id)
    done, todo = split_at(library, row.checkpoint)
    assert not done & set(asked_after), "an artist before the cursor was asked again"
    assert todo <= set(asked_after), "an artist after the cursor was never asked"
    attempt = 2 if stop == "sigkill" else 1
    assert job.attempt == attempt
    assert resumed_text(job.checkpoint) == (
        f"resumed from {saved.current}/{ARTISTS} (attempt {attempt})"
    )
    assert_whole_run(job)
    if stop == "graceful":
        # Given back after the writes it finished: only the calls in flight are redone.
        redone = set(asked_before) & set(asked_after)
        assert len(redone) <= 8, redone


@pytest.mark.django_db(transaction=True)
def test_a_killed_warm_cache_command_is_resumed_with_jobs_resume():
    library = library_of(ARTISTS, seed=5)
    with start(library) as fakes:
        env = env_for(fakes, PLAYLISTER_LASTFM_RATE=RATE)
        proc = manage("warm_cache", "--force", "--concurrency", "2", env=env)
        wait_for(lambda: JobRun.objects.filter(direct=True).exists(), timeout=60, what="its row")
        job_id = JobRun.objects.get(direct=True).pk
        wait_for(lambda: checkpointed(job_id, 60), timeout=90, what="a checkpoint at 60")
        proc.kill()  # SIGKILL: nothing records its end
        proc.communicate(timeout=30)
        killed = time.monotonic()
        assert maintenance.rescue_lost_jobs().failed == 1  # a direct run is not requeued
        lost = JobRun.objects.get(pk=job_id)
        assert lost.status == JobStatus.FAILED
        resume = manage("jobs", "resume", str(job_id), env=env)
        out, err = resume.communicate(timeout=120)
        asked_after = artists_asked(fakes, since=killed)
    assert resume.returncode == 0, err
    saved = Checkpoint.from_json(lost.checkpoint)
    assert saved is not None
    assert f"resuming from {saved.current}/{ARTISTS}" in err
    assert f"{ARTISTS}/{ARTISTS}" in err  # the bar went on to the end
    job = JobRun.objects.get(retry_of_id=job_id)
    assert (job.status, job.trigger, job.direct) == (JobStatus.SUCCESS, "cli", True)
    done, todo = split_at(library, lost.checkpoint)
    assert not done & set(asked_after)
    assert todo <= set(asked_after)
    assert resumed_text(job.checkpoint) == f"resumed from {saved.current}/{ARTISTS} of #{job_id}"
    assert_whole_run(job)
    assert f"Job {job.pk} succeeded" in out


def _without(library: Library, titles: set[str]) -> Library:
    keys = {a.rating_key for a in library.artists if a.title in titles}
    albums = tuple(a for a in library.albums if a.artist_key not in keys)
    album_keys = {a.rating_key for a in albums}
    tracks = tuple(t for t in library.tracks if t.album_key in album_keys)
    track_keys = {t.rating_key for t in tracks}
    return replace(
        library,
        artists=tuple(a for a in library.artists if a.rating_key not in keys),
        albums=albums,
        tracks=tracks,
        plays=tuple(p for p in library.plays if p.track_key in track_keys),
    )


@pytest.mark.django_db(transaction=True)
def test_a_library_that_changed_meanwhile_is_resumed_by_rating_key(settings):
    full = library_of(120, seed=3)
    newest = {a.title for a in sorted(full.artists, key=lambda a: a.rating_key)[-10:]}
    with start(_without(full, newest)) as fakes:
        configure(settings, fakes)
        stopped = stop_at("cache-warm", {"concurrency": 2, "skip_cached": False}, 50)
    done, _ = split_at(full, stopped.checkpoint)
    # Meanwhile ten artists were added and one not yet warmed was deleted.
    kept = sorted(full.artists, key=lambda a: a.rating_key)
    deleted = next(a.title for a in kept[80:] if a.title not in newest)
    changed = _without(full, {deleted})
    with start(changed) as fakes:
        configure(settings, fakes)
        job = retried(stopped)
        asked = artists_asked(fakes)
    assert job.status == JobStatus.SUCCESS
    assert not done & set(asked)
    assert newest <= set(asked)  # added after the cursor: warmed
    assert deleted not in asked
    assert job.result["total"] == len(changed.artists)
    assert resumed_text(job.checkpoint).startswith("resumed from ")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("params", [{"skip_cached": False}, {"dry_run": True}])
def test_force_and_dry_run_warms_resume_too(settings, params):
    library = library_of(80, seed=11)
    with start(library) as fakes:
        configure(settings, fakes)
        stopped = stop_at("cache-warm", {"concurrency": 2, **params}, 40)
        first = artists_asked(fakes)
        job = retried(stopped)
        both = artists_asked(fakes)
    assert job.status == JobStatus.SUCCESS
    done, todo = split_at(library, stopped.checkpoint)
    asked_again = {name for name, n in both.items() if n > first[name]}
    assert not done & asked_again
    assert todo <= asked_again | (set(first) - done)
    assert job.result["total"] == len(library.artists)
    assert job.result["dry_run"] == bool(params.get("dry_run"))
    assert job.retry_of_id == stopped.pk


def stop_at(job_type: str, params: dict[str, object], at: int) -> JobRun:
    """A direct run of ``job_type`` cancelled once ``at`` items are counted."""
    token = CancelEvent()
    stopped = run_direct(job_type, params, listener=CancelAt(token, at), token=token)
    assert stopped.status == JobStatus.CANCELLED
    return stopped


def retried(stopped: JobRun) -> JobRun:
    """``stopped`` retried (continuing its cursor) and run to its end here."""
    retry = services.retry_job(job_id=stopped.pk)
    claimed = services.claim_next()
    assert claimed is not None and claimed.pk == retry.pk
    return execute(claimed)


def _lastfm_calls(fakes) -> int:
    return sum(1 for r in fakes.lastfm.records() if r.query.get("method", "").endswith("TopTags"))


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("stop_at_count", [12, 45])  # in the artists' part, in the albums'
@pytest.mark.parametrize("dry_run", [False, True])
def test_a_stopped_refresh_goes_on_without_redoing_or_passing_its_limit(
    settings, stop_at_count, dry_run
):
    library = library_of(30, seed=13, albums_per_artist=(1, 2))
    with start(library) as fakes:
        configure(settings, fakes, PLAYLISTER_SPOTIFY_CLIENT_ID="")
        warm_artist_cache()
        warm_album_cache()
        now = timezone.now()
        for model in (ArtistCache, AlbumCache):
            for n, pk in enumerate(model.objects.order_by("?").values_list("pk", flat=True)):
                model.objects.filter(pk=pk).update(expires_at=now + timedelta(hours=n % 7))
        limit = 60
        fakes.lastfm.reset_counters()
        stopped = stop_at("cache-refresh", {"limit": limit, "dry_run": dry_run}, stop_at_count)
        job = retried(stopped)
        calls = _lastfm_calls(fakes)
    assert job.status == JobStatus.SUCCESS
    assert job.result["total"] == limit
    assert resumed_text(job.checkpoint).startswith("resumed from ")
    # Each entry once, but for the few in flight at the stop (without a cursor: stop_at more).
    assert limit <= calls <= limit + 6, calls
    if not dry_run:
        refreshed = sum(
            m.objects.filter(cached_at__gt=now).count() for m in (ArtistCache, AlbumCache)
        )
        assert refreshed == limit


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("params", [{"skip_cached": False}, {"dry_run": True}, {}])
def test_an_album_warm_resumes_after_the_last_album_it_stored(settings, params):
    library = library_of(40, seed=17, albums_per_artist=(1, 3))
    with start(library) as fakes:
        configure(settings, fakes)
        stopped = stop_at("cache-albums", {"concurrency": 2, **params}, 30)
        job = retried(stopped)
        asked = Counter(
            (r.query.get("artist"), r.query.get("album"))
            for r in fakes.lastfm.records()
            if r.query.get("method") == "album.getTopTags"
        )
    assert job.status == JobStatus.SUCCESS
    assert job.result["total"] == len(library.albums)
    once = {(library.artist(a.artist_key).title, a.title) for a in library.albums}
    if params:  # --force or --dry-run: every album is asked about
        assert set(asked) == once
    else:  # an album that shares its entry with one stored before may be cached by now
        assert set(asked) <= once
    # Each album once, but for the few in flight at the stop (and titles the library repeats).
    assert sum(asked.values()) - len(asked) <= 6 + (len(library.albums) - len(once))
    saved = Checkpoint.from_json(stopped.checkpoint)
    assert saved is not None
    where = f"{saved.current}/{len(library.albums)}"
    assert resumed_text(job.checkpoint) == f"resumed from {where} of #{stopped.pk}"


class Checkpoints(NullProgress):
    """A listener that keeps what each checkpoint says was done."""

    def __init__(self) -> None:
        self.done: list[int] = []

    def checkpoint(self, cursor: object) -> None:
        self.done.append(int(cursor["done"]))  # type: ignore[index]


@pytest.mark.django_db(transaction=True)
def test_every_stored_batch_leaves_a_checkpoint(settings):
    """Four threads finish artists out of order, so one count of the finished ones often
    takes several at once — a batch stored midway must still leave its checkpoint (it was
    taken only at the end of such a count: a run could go from start to end without one)."""
    library = library_of(ARTISTS, seed=5)
    with start(library) as fakes:
        configure(settings, fakes, PLAYLISTER_SPOTIFY_CLIENT_ID="")
        listener = Checkpoints()
        result = warm_artist_cache(concurrency=4, skip_cached=False, progress=listener)
    batches = result.written // WRITE_BATCH
    assert batches >= 3
    # Each stored batch moved the checkpoint on within the next few items, before the next
    # batch: as many distinct checkpoints as batches at least.
    assert len(set(listener.done)) >= batches, (batches, sorted(set(listener.done)))
