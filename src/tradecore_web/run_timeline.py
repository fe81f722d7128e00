"""The run history as a picture: a timeline of the runs' durations, coloured by status, drawn as
SVG on the server (no script, no charting library), served as an image.

:func:`timeline_svg` is pure: runs in, SVG text out, every piece of text escaped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from html import escape

from tradecore.domain import AutomationRun

__all__ = ["COLOURS", "RUNNING", "timeline_svg"]

RUNNING = "running"
"""The status key of a run not finished yet."""

COLOURS = {
    "success": "#1a7f37",
    "partial": "#9a6700",
    "failure": "#c0362c",
    RUNNING: "#1f5fbf",
}
"""The fill of a bar, by the run's status."""

_WIDTH = 640
_HEIGHT = 120
_TOP = 8
_BOTTOM = 20
_LEFT = 40
_GAP = 2
_MAX_BAR = 28


def _status_key(run: AutomationRun) -> str:
    return RUNNING if run.status is None else run.status.value


def _seconds(run: AutomationRun, now: datetime) -> float:
    end = run.finished_at if run.finished_at is not None else max(now, run.started_at)
    return max((end - run.started_at).total_seconds(), 0.0)


def _label(seconds: float) -> str:
    if seconds < 10:
        return f"{seconds:.2f} s"
    return f"{seconds:.1f} s" if seconds < 60 else f"{seconds / 60:.1f} min"


def timeline_svg(
    runs: Sequence[AutomationRun],
    *,
    now: datetime,
    title: str = "Run durations, oldest to newest",
    words: Mapping[str, str] | None = None,
) -> str:
    """An SVG bar per run (oldest on the left, newest on the right), its height the run's
    duration (a running run: so far, at ``now``) and its colour its status.

    :param runs: newest first, as the ledger lists them.
    :param title: the picture's accessible title.
    :param words: the status words shown in each bar's tooltip, by status key
        (``success``, ``partial``, ``failure``, ``running``); the key itself when missing.
    :returns: an SVG document; every text in it is escaped.
    """
    words = words or {}
    ordered = list(reversed(runs))
    longest = max((_seconds(run, now) for run in ordered), default=0.0) or 1.0
    plot_width = _WIDTH - _LEFT
    plot_height = _HEIGHT - _TOP - _BOTTOM
    slot = plot_width / len(ordered) if ordered else plot_width
    bar = max(min(slot - _GAP, _MAX_BAR), 1.0)
    parts = [
        f'<svg class="run-timeline" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'viewBox="0 0 {_WIDTH} {_HEIGHT}" width="{_WIDTH}" height="{_HEIGHT}" '
        'font-family="system-ui, sans-serif">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{_LEFT}" y1="{_TOP + plot_height}" x2="{_WIDTH}" y2="{_TOP + plot_height}" '
        'stroke="#d9dde3"/>',
        f'<text x="{_LEFT - 4}" y="{_TOP + 10}" text-anchor="end" font-size="10" '
        f'fill="#5b6470">{escape(_label(longest))}</text>',
        f'<text x="{_LEFT - 4}" y="{_TOP + plot_height}" text-anchor="end" font-size="10" '
        'fill="#5b6470">0</text>',
    ]
    for index, run in enumerate(ordered):
        seconds = _seconds(run, now)
        height = max(plot_height * seconds / longest, 1.0)
        x = _LEFT + index * slot + (slot - bar) / 2
        y = _TOP + plot_height - height
        key = _status_key(run)
        tip = (
            f"{run.started_at:%Y-%m-%d %H:%M:%S} UTC · {words.get(key, key)} · "
            f"{_label(seconds)} · {run.id}"
        )
        parts.append(
            f'<rect class="bar {escape(key)}" data-run="{escape(run.id)}" x="{x:.1f}" '
            f'y="{y:.1f}" width="{bar:.1f}" height="{height:.1f}" '
            f'fill="{COLOURS.get(key, "#5b6470")}"><title>{escape(tip)}</title></rect>'
        )
    if ordered:
        first, last = ordered[0].started_at, ordered[-1].started_at
        parts.append(
            f'<text x="{_LEFT}" y="{_HEIGHT - 4}" font-size="10" fill="#5b6470">'
            f"{escape(f'{first:%Y-%m-%d %H:%M} UTC')}</text>"
        )
        parts.append(
            f'<text x="{_WIDTH}" y="{_HEIGHT - 4}" text-anchor="end" font-size="10" '
            f'fill="#5b6470">{escape(f"{last:%Y-%m-%d %H:%M} UTC")}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
