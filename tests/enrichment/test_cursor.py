"""The warm cursor: outcomes counted in key order whatever order they finish in, and
cursors or checkpoints of any shape read without an error (adversarial, Hypothesis)."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from enrichment.cursor import InOrder, WarmCursor, after_cursor, rating_key_position
from enrichment.plex import PlexItem
from jobs.checkpoint import Checkpoint, resumed_text

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)


@given(st.data(), st.lists(st.booleans(), min_size=1, max_size=40))
def test_outcomes_are_counted_in_order_and_never_past_one_still_on_its_way(data, cached):
    walk = [PlexItem(str(n + 1), f"a{n}", []) for n in range(len(cached))]
    order: InOrder[int] = InOrder(walk, cached)
    todo = [n for n, is_cached in enumerate(cached) if not is_cached]
    finish_order = data.draw(st.permutations(todo))
    counted: list[int | None] = list(order.drain())
    for n in finish_order:
        order.finished(n, n)
        counted.extend(order.drain())
        # Everything counted so far is a prefix of the walk with no gap.
        assert order.done == len(counted)
        assert all((cached[i] and c is None) or c == i for i, c in enumerate(counted)), counted
    assert order.done == len(walk)
    assert order.last_done is walk[-1]


@example({"cursor": 1, "phase": float("inf")})
@example({"after": [0, 1, ""], "counts": {"cached": float("inf")}})
@given(JSON)
def test_a_cursor_or_checkpoint_of_any_shape_reads_without_an_error(value):
    parsed = WarmCursor.parse(value)
    if parsed is not None:
        items = [PlexItem(str(n), "x", []) for n in range(5)] + [PlexItem("abc", "y", [])]
        after_cursor(items, rating_key_position, parsed.after)
    Checkpoint.from_json(value)
    resumed_text(value)
    Checkpoint.from_json({"cursor": value, "resumed": value, "total": value})


def test_rating_keys_sort_as_numbers_and_odd_keys_after_them():
    keys = ["10", "9", "abc", "100", "2"]
    items = sorted((PlexItem(k, k, []) for k in keys), key=rating_key_position)
    assert [i.rating_key for i in items] == ["2", "9", "10", "100", "abc"]
    assert [i.rating_key for i in after_cursor(items, rating_key_position, [0, 9, ""])] == [
        "10",
        "100",
        "abc",
    ]


@given(JSON)
def test_a_refresh_cursor_of_any_shape_resumes_or_starts_over(value):
    from enrichment.refresh import _beyond, _resume_point

    warm, _ = _resume_point({"warm": value, "artists": value})
    if warm is not None:
        _beyond(warm.after)
