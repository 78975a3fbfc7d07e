"""The paths report as SVG geometry, laid out on the server: one row per path, one box per
event, each row's bar as wide as its share of the users; a hover title for each row and an
accessible name for the whole."""

from __future__ import annotations

from dataclasses import dataclass

from webapp.reports import reportwords as words

BOX_W, BOX_H, GAP, ROW_H, BAR_H, LEFT = 120, 24, 22, 44, 6, 4


@dataclass(frozen=True)
class Box:
    x: int
    y: int
    label: str


@dataclass(frozen=True)
class Row:
    boxes: list[Box]
    arrows: list[tuple[int, int, int]]  # (x1, x2, y)
    bar_y: int
    bar_w: float
    users: int
    title: str


@dataclass(frozen=True)
class Drawing:
    rows: list[Row]
    width: int
    height: int
    title: str
    box_w: int = BOX_W
    box_h: int = BOX_H
    bar_h: int = BAR_H


def layout(data: dict) -> Drawing:
    longest = max((len(p["events"]) for p in data["paths"]), default=1)
    width = LEFT + longest * (BOX_W + GAP)
    top = max((p["users"] for p in data["paths"]), default=1) or 1
    rows = []
    for i, path in enumerate(data["paths"]):
        y = i * ROW_H
        boxes = [Box(LEFT + j * (BOX_W + GAP), y, kind) for j, kind in enumerate(path["events"])]
        arrows = [(b.x + BOX_W, b.x + BOX_W + GAP - 2, y + BOX_H // 2) for b in boxes[:-1]]
        bar = round((width - LEFT) * path["users"] / top, 2)
        rows.append(Row(boxes, arrows, y + BOX_H + 4, bar, path["users"],
                        f"{words.path_name(path['events'])}: {words.users(path['users'])}"))
    title = (f"Paths: {words.paths_summary(data)}: "
             + "; ".join(row.title for row in rows))
    return Drawing(rows, width, max(len(rows), 1) * ROW_H, title)
