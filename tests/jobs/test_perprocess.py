"""One object per process: the broker, the Redis client, the reporter thread, a limiter's
file are each built once per process, and again in a forked worker."""

from __future__ import annotations

import os

import pytest

from jobs.perprocess import PerProcess


def _in_child(check) -> bool:
    """Run ``check`` in a forked child; did it hold there?"""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover (the child)
        try:
            os.write(write, b"1" if check() else b"0")
        finally:
            os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    with os.fdopen(read, "rb") as answer:
        return answer.read() == b"1"


# The child only builds an object and exits: no thread of the parent is needed there.
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_one_object_per_process_and_a_forked_child_builds_its_own():
    built: list[object] = []
    made = PerProcess(lambda: built.append(object()) or built[-1])
    first = made.get()
    assert made.get() is first
    assert len(built) == 1

    def child() -> bool:
        # The parent's object is not the child's: it is neither handed out nor closed here.
        inherited_discard = made.discard()
        own = made.get()
        return inherited_discard is None and own is not first and made.get() is own

    assert _in_child(child)
    assert made.get() is first  # the child changed nothing here


def test_discard_hands_back_the_object_to_close_and_the_next_get_builds_anew():
    made = PerProcess(object)
    first = made.get()
    assert made.discard() is first
    assert made.discard() is None
    assert made.get() is not first
