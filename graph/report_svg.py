"""Inline SVG charts (no scripts, no CDN): stage timeline, core utilization, task-duration histogram, what-if curve."""

from __future__ import annotations

from html import escape

from graph import units
from graph.report import StageDistribution, StageSpan, UtilizationPoint, WhatIfPoint

W, H = 760, 260
LEFT, RIGHT, TOP, BOTTOM = 60, 20, 20, 36
COLORS = {"complete": "#4c78a8", "failed": "#e45756", "skipped": "#bab0ac"}


def _frame(title: str, body: str, height: int = H, kind: str = "chart") -> str:
    return (f'<svg class="chart {kind}" xmlns="http://www.w3.org/2000/svg" width="{W}" height="{height}" '
            f'viewBox="0 0 {W} {height}" role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>'
            f'<text x="{LEFT}" y="13" font-size="12" font-weight="bold">{escape(title)}</text>{body}</svg>')


def _axis_x(max_value: float, height: int, fmt) -> str:
    parts = [f'<line x1="{LEFT}" y1="{height - BOTTOM}" x2="{W - RIGHT}" y2="{height - BOTTOM}" stroke="#888"/>']
    for i in range(5):
        value = max_value * i / 4
        x = LEFT + (W - LEFT - RIGHT) * i / 4
        parts.append(f'<text x="{x:.1f}" y="{height - BOTTOM + 16}" font-size="11" text-anchor="middle">{escape(fmt(value))}</text>')
    return "".join(parts)


def stage_timeline(spans: list[StageSpan]) -> str:
    """Gantt chart of stages over application time."""
    if not spans:
        return ""
    end = max(s.end_ms for s in spans) or 1
    row = max(6, min(18, (H * 2 - TOP - BOTTOM) // len(spans)))
    height = TOP + BOTTOM + row * len(spans)
    scale = (W - LEFT - RIGHT) / end
    bars = []
    for i, s in enumerate(spans):
        y = TOP + i * row
        width = max(1.0, (s.end_ms - s.start_ms) * scale)
        label = f"stage {s.stage_id}: {s.name} ({units.duration(s.end_ms - s.start_ms)}, {s.tasks} tasks)"
        bars.append(f'<rect x="{LEFT + s.start_ms * scale:.1f}" y="{y}" width="{width:.1f}" height="{row - 2}" '
                    f'fill="{COLORS.get(s.status, "#72b7b2")}"><title>{escape(label)}</title></rect>')
        if row >= 12:
            bars.append(f'<text x="{LEFT - 4}" y="{y + row - 4}" font-size="10" text-anchor="end">{s.stage_id}</text>')
    return _frame("Stage timeline", "".join(bars) + _axis_x(end, height, units.duration), height, "timeline")


def utilization(points: list[UtilizationPoint]) -> str:
    """Allocated vs busy executor cores over time."""
    if not points:
        return ""
    end = points[-1].time_ms or 1
    top = max(max(p.allocated_cores for p in points), max(p.busy_cores for p in points), 1)
    sx = (W - LEFT - RIGHT) / end
    sy = (H - TOP - BOTTOM) / top

    def path(values: list[float]) -> str:
        return " ".join(f"{LEFT + p.time_ms * sx:.1f},{H - BOTTOM - v * sy:.1f}" for p, v in zip(points, values))

    allocated = path([p.allocated_cores for p in points])
    busy = path([p.busy_cores for p in points])
    base = f"{LEFT + end * sx:.1f},{H - BOTTOM} {LEFT},{H - BOTTOM}"
    body = (f'<polygon points="{allocated} {base}" fill="#dde6f0"><title>allocated cores</title></polygon>'
            f'<polygon points="{busy} {base}" fill="#4c78a8" opacity="0.8"><title>busy cores</title></polygon>'
            f'<text x="{LEFT - 6}" y="{TOP + 8}" font-size="11" text-anchor="end">{top:.0f}</text>'
            f'<text x="{LEFT + 8}" y="{TOP + 10}" font-size="11">light: allocated cores, dark: busy cores</text>')
    return _frame("Executor core utilization over time", body + _axis_x(end, H, units.duration), kind="utilization")


def task_distribution(dist: StageDistribution, bins: int = 24) -> str:
    """Histogram of one stage's task durations, median and max marked."""
    values = dist.durations_ms
    if not values:
        return ""
    high = max(values) or 1
    counts = [0] * bins
    for v in values:
        counts[min(bins - 1, int(v / high * bins))] += 1
    peak = max(counts) or 1
    bw = (W - LEFT - RIGHT) / bins
    bars = []
    for i, c in enumerate(counts):
        h = (H - TOP - BOTTOM) * c / peak
        lo, hi = high * i / bins, high * (i + 1) / bins
        bars.append(f'<rect x="{LEFT + i * bw:.1f}" y="{H - BOTTOM - h:.1f}" width="{bw - 1:.1f}" height="{h:.1f}" fill="#f58518">'
                    f'<title>{units.duration(lo)} - {units.duration(hi)}: {c} of {len(values)} sampled tasks</title></rect>')
    if dist.median_ms is not None:
        x = LEFT + dist.median_ms / high * (W - LEFT - RIGHT)
        bars.append(f'<line x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{H - BOTTOM}" stroke="#333" stroke-dasharray="4"/>'
                    f'<text x="{x + 4:.1f}" y="{TOP + 10}" font-size="11">median {units.duration(dist.median_ms)}</text>')
    title = f"Stage {dist.stage_id}: task durations"
    return _frame(title, "".join(bars) + _axis_x(high, H, units.duration), kind="distribution")


def what_if_curve(points: list[WhatIfPoint]) -> str:
    """Predicted runtime by executor count, with the likely range as a band."""
    if len(points) < 2:
        return ""
    pts = sorted(points, key=lambda p: p.executors)
    xmax = max(p.executors for p in pts) or 1
    ymax = max(max(p.runtime_high_ms or p.runtime_ms for p in pts), 1)
    sx = (W - LEFT - RIGHT) / xmax
    sy = (H - TOP - BOTTOM) / ymax

    def xy(x: float, y: float) -> str:
        return f"{LEFT + x * sx:.1f},{H - BOTTOM - y * sy:.1f}"

    body = []
    if all(p.runtime_low_ms is not None and p.runtime_high_ms is not None for p in pts):
        band = [xy(p.executors, p.runtime_high_ms) for p in pts] + [xy(p.executors, p.runtime_low_ms) for p in reversed(pts)]
        body.append(f'<polygon points="{" ".join(band)}" fill="#54a24b" opacity="0.2"><title>likely range</title></polygon>')
    body.append(f'<polyline points="{" ".join(xy(p.executors, p.runtime_ms) for p in pts)}" fill="none" stroke="#54a24b" stroke-width="2"/>')
    for p in pts:
        r = 6 if p.current else 4
        body.append(f'<circle cx="{LEFT + p.executors * sx:.1f}" cy="{H - BOTTOM - p.runtime_ms * sy:.1f}" r="{r}" '
                    f'fill="{"#e45756" if p.current else "#54a24b"}"><title>{p.executors} executors: '
                    f'{units.duration(p.runtime_ms)}{" (now)" if p.current else ""}</title></circle>')
    body.append(f'<text x="{LEFT - 6}" y="{TOP + 8}" font-size="11" text-anchor="end">{escape(units.duration(ymax))}</text>')
    body.append(f'<text x="{W - RIGHT}" y="{H - 4}" font-size="11" text-anchor="end">executors</text>')
    return _frame("What if: runtime by executor count", "".join(body) + _axis_x(xmax, H, lambda v: f"{v:.0f}"), kind="whatif")
