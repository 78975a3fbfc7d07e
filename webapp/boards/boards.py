"""A project's boards: create, rename, delete, list, and which one is the project's home (what
its link opens instead of the live dashboard). Every query names the project, so a board of
another project is never found."""

from __future__ import annotations

from peewee import JOIN, fn

from webapp.db import database
from webapp.errors import BadBoard
from webapp.models import Board, BoardTile

MAX_BOARDS = 50  # a project's boards
MAX_NAME = 200


def name_problems(name: str) -> list[str]:
    if not name.strip() or len(name) > MAX_NAME:
        return [f"give the board a name of at most {MAX_NAME} characters"]
    return []


def boards_for(project_id: int) -> list[Board]:
    """The project's boards in their order, each with `tile_count`."""
    count = fn.COUNT(BoardTile.id).alias("tile_count")
    return list(Board.select(Board, count)
                .join(BoardTile, on=(BoardTile.board == Board.id), join_type=JOIN.LEFT_OUTER)
                .where(Board.project == project_id)
                .group_by(Board.id).order_by(Board.position, Board.id))


def get(project_id: int, board_id: int) -> Board | None:
    return Board.get_or_none(Board.id == board_id, Board.project == project_id)


def create(project_id: int, name: str) -> Board:
    problems = name_problems(name)
    with database.atomic():
        count = Board.select().where(Board.project == project_id).count()
        if count >= MAX_BOARDS:
            problems.append(f"a project has at most {MAX_BOARDS} boards: delete one first")
        if problems:
            raise BadBoard(problems)
        last = Board.select(fn.MAX(Board.position)).where(Board.project == project_id).scalar()
        return Board.create(project=project_id, name=name.strip(), position=(last or 0) + 1)


def rename(project_id: int, board_id: int, name: str) -> bool:
    """False when the project has no such board."""
    if problems := name_problems(name):
        raise BadBoard(problems)
    return bool(Board.update(name=name.strip())
                .where(Board.id == board_id, Board.project == project_id).execute())


def delete(project_id: int, board_id: int) -> bool:
    """Deletes the board with its tiles and share links (their foreign keys cascade); the
    project's link opens the dashboard again if it was the home board."""
    return bool(Board.delete().where(Board.id == board_id,
                                     Board.project == project_id).execute())


def home_of(project_id: int) -> Board | None:
    return Board.get_or_none(Board.project == project_id, Board.is_home)


def set_home(project_id: int, board_id: int | None) -> bool:
    """Make the board the project's home, or (None) the live dashboard again; False when the
    project has no such board (nothing changes then)."""
    with database.atomic() as transaction:
        Board.update(is_home=False).where(Board.project == project_id, Board.is_home).execute()
        if board_id is None:
            return True
        if Board.update(is_home=True).where(Board.id == board_id,
                                            Board.project == project_id).execute():
            return True
        transaction.rollback()
        return False
