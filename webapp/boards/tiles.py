"""A board's tiles: pin a saved report (small, wide or tall), move a tile up or down, put the
tiles in a new order (a drag), change a tile's size, remove it. Every query names the project
and the board, so another project's tiles, boards and reports are never reached."""

from __future__ import annotations

from peewee import IntegrityError, fn

from webapp.boards import boards
from webapp.db import database
from webapp.errors import BadBoard
from webapp.models import Board, BoardTile, SavedReport

SIZES = ("small", "wide", "tall")
SIZE_WORDS = {"small": "Small", "wide": "Wide", "tall": "Tall"}
MAX_TILES = 24  # a board's tiles
NO_BOARD = "no such board in this project"
NO_REPORT = "no such saved report in this project"


def size_problems(size: str) -> list[str]:
    if size not in SIZES:
        return [f"a tile's size is one of {', '.join(SIZES)}, not {size[:20]!r}"]
    return []


def tiles_of(project_id: int, board_id: int) -> list[BoardTile]:
    """The board's tiles in their order, each with its saved report loaded."""
    return list(BoardTile.select(BoardTile, SavedReport).join(SavedReport)
                .where(BoardTile.project == project_id, BoardTile.board == board_id)
                .order_by(BoardTile.position, BoardTile.id))


def pin(project_id: int, board_id: int, saved_report_id: int, size: str = "small") -> BoardTile:
    """A new tile at the end of the board; BadBoard lists every reason it cannot be."""
    problems = size_problems(size)
    with database.atomic():
        if not Board.select().where(Board.id == board_id, Board.project == project_id).exists():
            problems.append(NO_BOARD)
        if not SavedReport.select().where(SavedReport.id == saved_report_id,
                                          SavedReport.project == project_id).exists():
            problems.append(NO_REPORT)
        on_board = BoardTile.select().where(BoardTile.project == project_id,
                                            BoardTile.board == board_id)
        if on_board.count() >= MAX_TILES:
            problems.append(f"a board holds at most {MAX_TILES} tiles: remove one first")
        if problems:
            raise BadBoard(problems)
        last = on_board.select(fn.MAX(BoardTile.position)).scalar()
        try:
            with database.atomic():
                return BoardTile.create(project=project_id, board=board_id,
                                        saved_report=saved_report_id, size=size,
                                        position=(last or 0) + 1)
        except IntegrityError:  # the board or the report was deleted since the checks above
            raise BadBoard([f"{NO_BOARD}, or {NO_REPORT}"]) from None


def pin_to_new(project_id: int, name: str, saved_report_id: int,
               size: str = "small") -> BoardTile:
    """A new board of that name holding the report as its first tile (neither is made when
    either cannot be)."""
    with database.atomic():
        board = boards.create(project_id, name)
        return pin(project_id, board.id, saved_report_id, size)


def _ordered_ids(project_id: int, board_id: int) -> list[int]:
    return [tile_id for (tile_id,) in
            BoardTile.select(BoardTile.id)
            .where(BoardTile.project == project_id, BoardTile.board == board_id)
            .order_by(BoardTile.position, BoardTile.id).tuples()]


def _number(project_id: int, board_id: int, ids: list[int]) -> None:
    """Store `ids` as the board's order: positions 1, 2, 3, ..."""
    for position, tile_id in enumerate(ids, 1):
        (BoardTile.update(position=position)
         .where(BoardTile.id == tile_id, BoardTile.project == project_id,
                BoardTile.board == board_id).execute())


def _locked(project_id: int, board_id: int) -> bool:
    """Lock the board's row for this transaction (one change of its order at a time); False
    when the project has no such board."""
    return Board.select(Board.id).where(Board.id == board_id, Board.project == project_id) \
        .for_update().exists()


def move(project_id: int, board_id: int, tile_id: int, direction: str) -> bool:
    """Swap the tile with the one before it (`up`) or after it (`down`); at either end it stays.
    False when the board has no such tile."""
    if direction not in ("up", "down"):
        raise BadBoard([f"a tile moves up or down, not {direction[:20]!r}"])
    with database.atomic():
        if not _locked(project_id, board_id):
            return False
        ids = _ordered_ids(project_id, board_id)
        if tile_id not in ids:
            return False
        at = ids.index(tile_id)
        to = at - 1 if direction == "up" else at + 1
        if 0 <= to < len(ids):
            ids[at], ids[to] = ids[to], ids[at]
        _number(project_id, board_id, ids)
        return True


def reorder(project_id: int, board_id: int, order: list[str]) -> bool:
    """Put the board's tiles in `order` (their ids, as a form sends them), which must name each
    of them once; False when the project has no such board."""
    with database.atomic():
        if not _locked(project_id, board_id):
            return False
        ids = _ordered_ids(project_id, board_id)
        wanted = [int(text) for text in order if text.isascii() and text.isdecimal()
                  and len(text) <= 18]
        if len(wanted) != len(order):
            raise BadBoard(["each tile of the order is a tile's number, not "
                            + ", ".join(repr(t[:20]) for t in order if not t.isdecimal())])
        if sorted(wanted) != sorted(ids):
            raise BadBoard([f"the order names each of the board's {len(ids)} tiles once (has "
                            f"the board changed since the page was shown? reload it)"])
        _number(project_id, board_id, wanted)
        return True


def resize(project_id: int, board_id: int, tile_id: int, size: str) -> bool:
    """False when the board has no such tile."""
    if problems := size_problems(size):
        raise BadBoard(problems)
    return bool(BoardTile.update(size=size)
                .where(BoardTile.id == tile_id, BoardTile.project == project_id,
                       BoardTile.board == board_id).execute())


def remove(project_id: int, board_id: int, tile_id: int) -> bool:
    """False when the board has no such tile (the saved report stays)."""
    return bool(BoardTile.delete()
                .where(BoardTile.id == tile_id, BoardTile.project == project_id,
                       BoardTile.board == board_id).execute())
