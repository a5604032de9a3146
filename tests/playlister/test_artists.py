"""Resolving a track's artists from Plex's album artist and originalTitle credit."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from enrichment.names import normalize_name
from playlister.artists import credit_parts, split_credit, track_artists

KNOWN = {
    normalize_name(n)
    for n in ("A", "B", "AC/DC", "Earth, Wind & Fire", "Zoë Novák & the Owls", "Björk", "Z")
}


def known(name: str) -> bool:
    return normalize_name(name) in KNOWN


@pytest.mark.parametrize(
    ("credit", "artists"),
    [
        ("A/B", ["A", "B"]),
        ("A / B", ["A", "B"]),
        ("A; B", ["A", "B"]),
        ("A feat. B", ["A", "B"]),
        ("A Feat. Guest", ["A", "Guest"]),
        ("A ft. B", ["A", "B"]),
        ("A & B", ["A", "B"]),
        ("A, B & Z", ["A", "B", "Z"]),
        # A whole credit that is a known artist is never split.
        ("AC/DC", ["AC/DC"]),
        ("Earth, Wind & Fire", ["Earth, Wind & Fire"]),
        ("Zoë Novák & the Owls", ["Zoë Novák & the Owls"]),
        # The longest known run wins: a known name inside a longer credit stays whole.
        ("AC/DC feat. Guest", ["AC/DC", "Guest"]),
        ("Earth, Wind & Fire ft. Z", ["Earth, Wind & Fire", "Z"]),
        ("Zoë Novák & the Owls & Björk", ["Zoë Novák & the Owls", "Björk"]),
        # Nothing known: splitting would only lose the name.
        ("Simon & Garfunkel", ["Simon & Garfunkel"]),
        ("Guest One feat. Guest Two", ["Guest One feat. Guest Two"]),
        # No separator (a compilation track's own artist).
        ("Björk", ["Björk"]),
        ("bjork", ["bjork"]),
        ("", []),
    ],
)
def test_credits_split_as_plex_libraries_write_them(credit: str, artists: list[str]) -> None:
    assert split_credit(credit, known) == artists


def test_the_track_artists_come_first_then_the_album_artist_once() -> None:
    assert track_artists("A/B", "A", known) == ["A", "B"]
    assert track_artists("B feat. A", "A", known) == ["B", "A"]
    assert track_artists("Björk", "Various Artists", known) == ["Björk", "Various Artists"]
    assert track_artists("", "A", known) == ["A"]
    assert track_artists("a", "A", known) == ["a"]


def test_every_run_of_parts_is_a_candidate_name() -> None:
    assert credit_parts("A feat. B & C") == [
        "A",
        "A feat. B",
        "A feat. B & C",
        "B",
        "B & C",
        "C",
    ]


NAMES = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=12)
SEPARATORS = st.sampled_from(["/", " / ", "; ", " feat. ", " ft. ", " & ", ", ", " FEAT. "])


@st.composite
def credits(draw: st.DrawFn) -> str:
    names = draw(st.lists(NAMES, min_size=1, max_size=5))
    out = names[0]
    for name in names[1:]:
        out += draw(SEPARATORS) + name
    return out


# No deadline: a loaded CI machine must not turn slowness into a failure.
@settings(deadline=None)
@given(credit=credits(), known_names=st.sets(NAMES, max_size=6))
def test_any_credit_resolves_to_names_taken_from_it(credit: str, known_names: set[str]) -> None:
    folded = {normalize_name(n) for n in known_names}

    def is_known(name: str) -> bool:
        return normalize_name(name) in folded

    names = split_credit(credit, is_known)
    assert all(name and name in credit for name in names)
    if credit.strip():
        assert names
        if is_known(credit.strip()):
            assert names == [credit.strip()]
    if len(names) > 1:
        assert any(is_known(n) for n in names)
