"""The history page's charts (``jobs.charts``): drawn by ``static/js/charts.js`` with the
vendored uPlot, each with the same figures in a table beside it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.shortcuts import render
from django.views.decorators.http import require_GET

from jobs import charts, registry
from jobs.results import duration_text
from jobs.views.access import page_login_required
from jobs.views.pages import HistoryFilterForm, history_filters

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse


@dataclass(frozen=True)
class ChartView:
    """A chart for the page: its data for the script and the same as a table."""

    id: str
    title: str
    unit: str  # "runs" or "seconds"
    chart: charts.Chart

    @property
    def rows(self) -> list[tuple[str, list[str]]]:
        """One row per day that has a value: the day, then each series' value as text."""
        shown = []
        for n, day in enumerate(self.chart.days):
            values = [s.values[n] for s in self.chart.series]
            if all(v is None or v == 0 for v in values):
                continue
            shown.append(
                (
                    day.strftime("%a %d %b"),
                    [
                        "—"
                        if v is None
                        else (duration_text(v) if self.unit == "seconds" else f"{v:,.0f}")
                        for v in values
                    ],
                )
            )
        return shown

    @property
    def json_id(self) -> str:
        return f"chart-{self.id}-data"

    @property
    def data(self) -> dict[str, Any]:
        return {"unit": self.unit, **self.chart.as_json()}


@page_login_required
@require_GET
def history_charts(request: HttpRequest) -> HttpResponse:
    """Runs per day by status and durations per job type per day, for the history filter's
    period (default: the last ``charts.DEFAULT_DAYS`` days); two GROUP BYs."""
    form = HistoryFilterForm(request.GET)
    filters = history_filters(form)
    labels = {spec.name: spec.label for spec in registry.all_types()}
    views = [
        ChartView("runs-per-day", "Runs per day", "runs", charts.runs_per_day(filters)),
        ChartView(
            "durations",
            "Average duration per job type",
            "seconds",
            charts.durations_per_day(filters, labels=labels),
        ),
    ]
    return render(
        request,
        "jobs/history.html#charts",
        {
            "charts": views,
            "max_days": charts.MAX_DAYS,
            "default_days": charts.DEFAULT_DAYS,
            "default_window": filters.since is None,
        },
    )
