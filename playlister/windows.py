"""The playlist windows: three daily mixes by hour of day, and two weekly mixes."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Window(StrEnum):
    MORNING = "morning"
    AFTERNOON = "afternoon"
    EVENING = "evening"
    DISCOVERY = "discovery"
    THROWBACK = "throwback"


DAILY = (Window.MORNING, Window.AFTERNOON, Window.EVENING)


@dataclass(frozen=True)
class WindowSpec:
    title: str
    label: str
    hours: tuple[int, int] | None = None  # inclusive, in the configured time zone
    # AudioMuse profile the daily mixes lean towards: (energy 0..1, tempo in BPM).
    profile: tuple[float, float] | None = None

    def contains_hour(self, hour: int) -> bool:
        return self.hours is not None and self.hours[0] <= hour <= self.hours[1]


WINDOWS: dict[Window, WindowSpec] = {
    Window.MORNING: WindowSpec("Daily Morning Mix", "Morning", (6, 11), (0.45, 105.0)),
    Window.AFTERNOON: WindowSpec("Daily Afternoon Mix", "Afternoon", (12, 17), (0.65, 122.0)),
    Window.EVENING: WindowSpec("Daily Evening Mix", "Evening", (18, 23), (0.35, 95.0)),
    Window.DISCOVERY: WindowSpec("Weekly Discovery", "Discovery"),
    Window.THROWBACK: WindowSpec("Weekly Throwback", "Throwback"),
}
