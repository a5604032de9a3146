/* The history page's charts (jobs/views/charts.py), drawn with the vendored uPlot from the
   JSON beside each chart. Colour is never the only cue: every series has its own dash pattern
   and marker shape, and its legend label carries the marker's symbol; the table beside each
   chart holds the same figures as text. */
(function () {
  "use strict";

  // A series' look by its style: a status, or "1".."8" for job types.
  var LOOKS = {
    success: { color: "--ok", dash: [], shape: "circle" },
    failed: { color: "--danger", dash: [8, 4], shape: "triangle" },
    cancelled: { color: "--muted", dash: [2, 4], shape: "square" },
    running: { color: "--accent", dash: [12, 4, 2, 4], shape: "diamond" },
    queued: { color: "--warn", dash: [4, 4], shape: "cross" },
    "1": { color: "--chart-1", dash: [], shape: "circle" },
    "2": { color: "--chart-2", dash: [8, 4], shape: "triangle" },
    "3": { color: "--chart-3", dash: [2, 4], shape: "square" },
    "4": { color: "--chart-4", dash: [12, 4, 2, 4], shape: "diamond" },
    "5": { color: "--chart-5", dash: [4, 4], shape: "cross" },
    "6": { color: "--chart-6", dash: [14, 6], shape: "plus" },
    "7": { color: "--chart-7", dash: [1, 3], shape: "down" },
    "8": { color: "--chart-8", dash: [6, 2, 2, 2], shape: "circle" },
  };
  var SYMBOLS = { circle: "●", triangle: "▲", square: "■", diamond: "◆", cross: "✕", plus: "✚", down: "▼" };
  var FILLED = { circle: true, triangle: true, square: true, diamond: true, down: true };

  function cssVar(name) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || "#888";
  }

  function drawShape(path, shape, x, y, r) {
    switch (shape) {
      case "triangle":
        path.moveTo(x, y - r); path.lineTo(x + r, y + r * 0.8); path.lineTo(x - r, y + r * 0.8); path.closePath();
        break;
      case "down":
        path.moveTo(x, y + r); path.lineTo(x + r, y - r * 0.8); path.lineTo(x - r, y - r * 0.8); path.closePath();
        break;
      case "square":
        path.rect(x - r * 0.8, y - r * 0.8, r * 1.6, r * 1.6);
        break;
      case "diamond":
        path.moveTo(x, y - r); path.lineTo(x + r, y); path.lineTo(x, y + r); path.lineTo(x - r, y); path.closePath();
        break;
      case "cross":
        path.moveTo(x - r, y - r); path.lineTo(x + r, y + r); path.moveTo(x + r, y - r); path.lineTo(x - r, y + r);
        break;
      case "plus":
        path.moveTo(x - r, y); path.lineTo(x + r, y); path.moveTo(x, y - r); path.lineTo(x, y + r);
        break;
      default:
        path.moveTo(x + r, y); path.arc(x, y, r, 0, 2 * Math.PI);
    }
  }

  // Markers where there is something to show: a day without runs has a line, no mark.
  function markers(shape) {
    return function (u, seriesIdx, idx0, idx1) {
      var series = u.series[seriesIdx];
      var r = 4.5 * uPlot.pxRatio;
      var path = new Path2D();
      for (var i = idx0; i <= idx1; i++) {
        var value = u.data[seriesIdx][i];
        if (value == null || value === 0) { continue; }
        drawShape(path, shape, u.valToPos(u.data[0][i], "x", true), u.valToPos(value, series.scale, true), r);
      }
      return { stroke: path, fill: FILLED[shape] ? path : null };
    };
  }

  // As jobs.views.present.format_seconds says it: 850 ms, 12s, 3m 05s, 2h 04m.
  function seconds(value) {
    if (value == null) { return "—"; }
    if (value < 1) { return Math.round(value * 1000) + " ms"; }
    var whole = Math.round(value);
    if (whole < 60) { return whole + "s"; }
    var minutes = Math.floor(whole / 60), secs = whole % 60;
    if (minutes < 60) { return minutes + "m " + String(secs).padStart(2, "0") + "s"; }
    return Math.floor(minutes / 60) + "h " + String(minutes % 60).padStart(2, "0") + "m";
  }

  // Round durations for a log scale's lines: 1 s, 10 s, 1 min, 10 min, 1 h, 10 h.
  var DURATION_SPLITS = [0.001, 0.01, 0.1, 1, 10, 60, 600, 3600, 36000, 360000];
  var DAY = uPlot.fmtDate("{D} {MMM}");

  function utc(ts) { return uPlot.tzDate(new Date(ts * 1e3), "Etc/UTC"); }

  function options(data, width) {
    var durations = data.unit === "seconds";
    var muted = cssVar("--muted"), line = cssVar("--line");
    var axis = { stroke: muted, grid: { stroke: line, width: 1 }, ticks: { stroke: line, width: 1 } };
    var x = Object.assign({}, axis, {
      values: function (u, ticks) { return ticks.map(function (t) { return DAY(utc(t)); }); },
    });
    var y = Object.assign({}, axis, {
      size: 64,
      values: function (u, ticks) { return ticks.map(function (t) { return durations ? seconds(t) : String(t); }); },
    });
    if (durations) {
      y.splits = function (u, i, min, max) {
        var round = DURATION_SPLITS.filter(function (v) { return v >= min && v <= max; });
        return round.length >= 2 ? round : [min, max];
      };
    }
    var series = [{}];
    data.series.forEach(function (s) {
      var look = LOOKS[s.style] || LOOKS["1"];
      var color = cssVar(look.color);
      series.push({
        label: SYMBOLS[look.shape] + " " + s.label,
        stroke: color,
        width: 2,
        dash: look.dash,
        spanGaps: true,
        value: function (u, v) { return durations ? seconds(v) : (v == null ? "—" : String(v)); },
        points: { show: true, size: 9, width: 1.5, stroke: color, fill: color, paths: markers(look.shape) },
      });
    });
    return {
      width: width,
      height: 240,
      // Days are sent as UTC midnights: drawn as UTC, they read as the days they are.
      tzDate: utc,
      cursor: { points: { show: false } },
      scales: durations ? { y: { distr: 3, log: 10 } } : { y: { range: function (u, min, max) { return [0, Math.max(1, max)]; } } },
      axes: [x, y],
      series: series,
    };
  }

  function values(data) {
    var durations = data.unit === "seconds";
    return [data.x].concat(data.series.map(function (s) {
      // A log scale has no zero: an instant run is drawn at 1 ms.
      return s.values.map(function (v) { return durations && v != null ? Math.max(v, 0.001) : v; });
    }));
  }

  var drawn = [];

  function draw(holder) {
    var source = document.getElementById(holder.getAttribute("data-chart"));
    if (!source || !window.uPlot) { return; }
    var data = JSON.parse(source.textContent);
    holder.textContent = "";
    var chart = new uPlot(options(data, holder.clientWidth || 600), values(data), holder);
    drawn.push({ holder: holder, chart: chart, data: data });
    if (window.ResizeObserver) {
      new ResizeObserver(function () {
        if (holder.clientWidth && holder.clientWidth !== chart.width) {
          chart.setSize({ width: holder.clientWidth, height: 240 });
        }
      }).observe(holder);
    }
  }

  function drawAll(root) {
    if (root.querySelectorAll) { root.querySelectorAll("[data-chart]").forEach(draw); }
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (window.htmx) { window.htmx.onLoad(drawAll); } else { drawAll(document); }
    // A change of theme changes the colours: draw again.
    window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", function () {
      var holders = drawn.filter(function (d) { return document.contains(d.holder); });
      drawn = [];
      holders.forEach(function (d) { d.chart.destroy(); draw(d.holder); });
    });
  });
})();
