"""Word lists for the seeded library: genre families, styles, moods and name parts.

Plex spells genre, style and mood tags in Title Case ("Indie Rock", "Hip-Hop"); Last.fm and
Spotify use lower case. The fakes keep that difference on purpose: the app must normalise it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class GenreFamily:
    """Genres that plausibly co-occur on one artist, with their finer styles."""

    name: str
    genres: tuple[str, ...]
    styles: tuple[str, ...]
    moods: tuple[str, ...]
    weight: float


FAMILIES: tuple[GenreFamily, ...] = (
    GenreFamily(
        "rock",
        ("Rock", "Indie Rock", "Alternative", "Hard Rock", "Punk", "Post-Rock", "Garage Rock"),
        ("Shoegaze", "Britpop", "Grunge", "Emo", "Math Rock", "Post-Punk", "New Wave"),
        ("Energetic", "Rousing", "Brooding", "Bittersweet", "Aggressive"),
        5.0,
    ),
    GenreFamily(
        "electronic",
        ("Electronic", "House", "Techno", "Ambient", "Drum and Bass", "IDM", "Synthpop"),
        ("Deep House", "Minimal Techno", "Downtempo", "Breakbeat", "Chillwave", "Dubstep"),
        ("Hypnotic", "Atmospheric", "Dreamy", "Energetic", "Cold"),
        4.0,
    ),
    GenreFamily(
        "jazz",
        ("Jazz", "Bebop", "Fusion", "Vocal Jazz", "Smooth Jazz"),
        ("Hard Bop", "Cool Jazz", "Free Jazz", "Modal Jazz", "Latin Jazz"),
        ("Sophisticated", "Mellow", "Warm", "Playful", "Reflective"),
        2.0,
    ),
    GenreFamily(
        "hip hop",
        ("Hip-Hop", "Rap", "Trap", "Conscious Hip-Hop"),
        ("Boom Bap", "East Coast Hip-Hop", "West Coast Hip-Hop", "Abstract Hip-Hop", "G-Funk"),
        ("Confident", "Aggressive", "Playful", "Gritty", "Energetic"),
        3.0,
    ),
    GenreFamily(
        "folk",
        ("Folk", "Singer-Songwriter", "Americana", "Indie Folk", "Country"),
        ("Folk Rock", "Bluegrass", "Alt-Country", "Chamber Folk"),
        ("Wistful", "Warm", "Reflective", "Melancholy", "Intimate"),
        2.5,
    ),
    GenreFamily(
        "metal",
        ("Metal", "Heavy Metal", "Death Metal", "Black Metal", "Doom Metal"),
        ("Thrash Metal", "Sludge Metal", "Progressive Metal", "Metalcore"),
        ("Aggressive", "Intense", "Brooding", "Menacing"),
        1.5,
    ),
    GenreFamily(
        "soul",
        ("Soul", "R&B", "Funk", "Neo-Soul", "Gospel"),
        ("Motown", "Northern Soul", "Quiet Storm", "Contemporary R&B"),
        ("Romantic", "Warm", "Uplifting", "Sensual", "Playful"),
        2.0,
    ),
    GenreFamily(
        "classical",
        ("Classical", "Baroque", "Romantic Era", "Contemporary Classical", "Opera"),
        ("Chamber Music", "Symphony", "Minimalism", "Choral"),
        ("Reflective", "Majestic", "Melancholy", "Serene"),
        1.0,
    ),
    GenreFamily(
        "pop",
        ("Pop", "Indie Pop", "Dream Pop", "Electropop", "K-Pop"),
        ("Art Pop", "Dance-Pop", "Bubblegum Pop", "Europop"),
        ("Uplifting", "Playful", "Dreamy", "Bittersweet", "Euphoric"),
        3.0,
    ),
    GenreFamily(
        "world",
        ("Reggae", "Latin", "Afrobeat", "Bossa Nova", "World"),
        ("Dub", "Ska", "Cumbia", "Highlife"),
        ("Warm", "Joyous", "Laid-Back", "Hypnotic"),
        1.0,
    ),
    GenreFamily(
        "blues",
        ("Blues", "Electric Blues", "Delta Blues"),
        ("Chicago Blues", "Blues Rock", "Boogie-Woogie"),
        ("Gritty", "Melancholy", "Soulful"),
        0.8,
    ),
)

GENERIC_MOODS: tuple[str, ...] = (
    "Melancholy",
    "Mellow",
    "Uplifting",
    "Dreamy",
    "Reflective",
    "Energetic",
    "Nocturnal",
    "Yearning",
)


def _ordered_unique(values: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


ALL_GENRES: tuple[str, ...] = _ordered_unique([g for f in FAMILIES for g in f.genres])
ALL_STYLES: tuple[str, ...] = _ordered_unique([s for f in FAMILIES for s in f.styles])
ALL_MOODS: tuple[str, ...] = _ordered_unique(
    [m for f in FAMILIES for m in f.moods] + list(GENERIC_MOODS)
)


def _tag_ids() -> dict[tuple[str, str], int]:
    # One id space across kinds, as Plex's tags table has; starts high like a used server.
    ids: dict[tuple[str, str], int] = {}
    next_id = 1001
    for kind, names in (("genre", ALL_GENRES), ("style", ALL_STYLES), ("mood", ALL_MOODS)):
        for tag in names:
            ids[(kind, tag)] = next_id
            next_id += 1
    return ids


TAG_IDS: dict[tuple[str, str], int] = _tag_ids()
"""Plex tag id of every (kind, tag) pair; kind is ``genre``, ``style`` or ``mood``."""

LASTFM_NOISE_TAGS: tuple[str, ...] = (
    "seen live",
    "favorite",
    "favourites",
    "albums i own",
    "beautiful",
    "awesome",
    "love",
    "british",
    "american",
    "00s",
    "90s",
    "female vocalists",
    "male vocalists",
    "chill",
    "amazing",
)

ADJECTIVES: tuple[str, ...] = (
    "Silver", "Velvet", "Hollow", "Electric", "Midnight", "Paper", "Golden", "Broken", "Quiet",
    "Neon", "Wild", "Crystal", "Northern", "Lunar", "Static", "Amber", "Crimson", "Wooden",
    "Glass", "Distant", "Secret", "Burning", "Frozen", "Little", "Strange", "Violet", "Iron",
    "Sleeping", "Restless", "Blue",
)  # fmt: skip

NOUNS: tuple[str, ...] = (
    "Harbor", "Lanterns", "Foxes", "Rivers", "Engines", "Tides", "Ghosts", "Horses", "Echoes",
    "Sparrows", "Machines", "Gardens", "Wolves", "Comets", "Choir", "Parade", "Mirrors", "Owls",
    "Satellites", "Waves", "Pilots", "Orchards", "Signals", "Cathedrals", "Islands", "Strangers",
    "Antlers", "Cities", "Seasons", "Hearts",
)  # fmt: skip

FIRST_NAMES: tuple[str, ...] = (
    "Léa", "Zoë", "José", "Björn", "Chloé", "André", "Inés", "Øystein", "Renée", "Joaquín",
    "Mikaela", "Jonas", "Amara", "Theo", "Nina", "Kofi", "Yuki", "Ravi", "Élodie", "Sam",
    "Margot", "Tomás", "Ingrid", "Marcus", "Aoife", "Lars", "Priya", "Dmitri", "Hana", "Felix",
)  # fmt: skip

LAST_NAMES: tuple[str, ...] = (
    "Marchand", "Novák", "Okafor", "Lindqvist", "Moreau", "Alvarez", "Nakamura", "Brennan",
    "Sørensen", "Castellanos", "Ivanova", "Dubois", "Whitfield", "Haddad", "Kowalski", "Mendes",
    "Fischer", "O'Connor", "Reyes", "Holm", "Achterberg", "Baptiste", "Quinn", "Varga",
)  # fmt: skip

SYLLABLES: tuple[str, ...] = (
    "ka", "lo", "mi", "ra", "vel", "dor", "sen", "tha", "mar", "lin", "zu", "bri", "or", "an",
    "el", "quin", "ve", "nor", "sa", "tor", "ia", "mon", "ky", "ru", "fa", "dex", "ol", "ne",
    "cas", "vi",
)  # fmt: skip

ENSEMBLES: tuple[str, ...] = ("Trio", "Quartet", "Ensemble", "Orchestra", "Collective", "Band")

TITLE_WORDS: tuple[str, ...] = (
    "Light", "Night", "Home", "Fire", "Water", "Summer", "Winter", "Dreams", "Roads", "Stars",
    "Gold", "Rain", "Shadows", "Morning", "Heart", "Ocean", "Silence", "Dust", "Sky", "Glass",
    "Closer", "Away", "Again", "Forever", "Slowly", "Tonight", "Alone", "Together", "Down", "Over",
)  # fmt: skip
