from __future__ import annotations

import pytest

from jobs.progress import MemoryProgress, TeeProgress


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_eta_follows_the_observed_rate():
    clock = FakeClock()
    progress = MemoryProgress(clock=clock)
    progress.start(100, "go")
    assert progress.snapshot().eta_seconds is None  # no rate observed yet
    clock.now += 10
    progress.advance(20)
    # 20 items in 10 s → 80 left at 2/s
    assert progress.snapshot().eta_seconds == pytest.approx(40)
    clock.now += 10
    progress.advance(5)
    # the rate slowed: 25 in 20 s → 75 left at 1.25/s
    assert progress.snapshot().eta_seconds == pytest.approx(60)


def test_source_counts_and_finish():
    progress = MemoryProgress()
    progress.start(3)
    progress.advance(source="plex")
    progress.advance(source="lastfm")
    progress.advance(message="last", source="lastfm")
    progress.finish("Done")
    snap = progress.snapshot()
    assert snap.source_counts == {"plex": 1, "lastfm": 2}
    assert (snap.current, snap.total, snap.message, snap.finished) == (3, 3, "Done", True)
    assert snap.eta_seconds is None


def test_tee_reaches_every_listener():
    a, b = MemoryProgress(), MemoryProgress()
    tee = TeeProgress(a, b)
    tee.start(10, "x")
    tee.advance(2)
    tee.set(7, "y")
    assert a.snapshot().current == b.snapshot().current == 7
    assert a.snapshot().message == b.snapshot().message == "y"
