"""The playlist windows: three daily mixes by hour of day, and two weekly mixes."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings


class Window(StrEnum):
    MORNING = "morning"
    AFTERNOON = "afternoon"
    EVENING = "evening"
    DISCOVERY = "discovery"
    THROWBACK = "throwback"


DAILY = (Window.MORNING, Window.AFTERNOON, Window.EVENING)


@dataclass(frozen=True)
class WindowSpec:
    label: str
    hours: tuple[int, int] | None = None  # inclusive, in the configured time zone
    # AudioMuse profile the daily mixes lean towards: (energy 0..1, tempo in BPM).
    profile: tuple[float, float] | None = None

    def contains_hour(self, hour: int) -> bool:
        return self.hours is not None and self.hours[0] <= hour <= self.hours[1]


WINDOWS: dict[Window, WindowSpec] = {
    Window.MORNING: WindowSpec("Morning", (6, 11), (0.45, 105.0)),
    Window.AFTERNOON: WindowSpec("Afternoon", (12, 17), (0.65, 122.0)),
    Window.EVENING: WindowSpec("Evening", (18, 23), (0.35, 95.0)),
    Window.DISCOVERY: WindowSpec("Discovery"),
    Window.THROWBACK: WindowSpec("Throwback"),
}


def window_title(window: Window) -> str:
    """The title of a window's playlist in Plex (``PLAYLISTER_TITLE_<WINDOW>``); changing it
    renames the playlist there."""
    return str(settings.PLAYLISTER_PLAYLIST_TITLES[window.value])
