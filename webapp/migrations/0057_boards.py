"""Boards: a project's pages of tiles, each tile a pinned saved report (small, wide or tall) in
an order; at most one board a project is its home. A share link may show one board. Every
foreign key holds the project, so a tile can only pin its own project's report onto its own
project's board, and a link only show its own project's board; deleting a board deletes its
tiles and links, deleting a saved report its tiles."""

UP = """
CREATE TABLE board (
    id          SERIAL PRIMARY KEY,
    project_id  INTEGER      NOT NULL REFERENCES project (id) ON DELETE CASCADE,
    name        VARCHAR(200) NOT NULL,
    position    INTEGER      NOT NULL,
    is_home     BOOLEAN      NOT NULL DEFAULT false,
    created_at  TIMESTAMPTZ  NOT NULL DEFAULT now(),
    CONSTRAINT board_project_id UNIQUE (project_id, id)
);
CREATE INDEX board_project ON board (project_id, position);
CREATE UNIQUE INDEX board_one_home ON board (project_id) WHERE is_home;

CREATE TABLE board_tile (
    id              SERIAL PRIMARY KEY,
    project_id      INTEGER     NOT NULL,
    board_id        INTEGER     NOT NULL,
    saved_report_id INTEGER     NOT NULL,
    size            VARCHAR(5)  NOT NULL DEFAULT 'small'
                                CHECK (size IN ('small', 'wide', 'tall')),
    position        INTEGER     NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT board_tile_board FOREIGN KEY (project_id, board_id)
        REFERENCES board (project_id, id) ON DELETE CASCADE,
    CONSTRAINT board_tile_saved_report FOREIGN KEY (project_id, saved_report_id)
        REFERENCES saved_report (project_id, id) ON DELETE CASCADE
);
CREATE INDEX board_tile_board ON board_tile (board_id, position);
CREATE INDEX board_tile_saved_report ON board_tile (project_id, saved_report_id);

ALTER TABLE share_link
    ADD COLUMN board_id INTEGER,
    ADD CONSTRAINT share_link_board FOREIGN KEY (project_id, board_id)
        REFERENCES board (project_id, id) ON DELETE CASCADE,
    ADD CONSTRAINT share_link_one_view CHECK (saved_report_id IS NULL OR board_id IS NULL);
CREATE INDEX share_link_board ON share_link (board_id) WHERE board_id IS NOT NULL;
"""

DOWN = """
DROP INDEX share_link_board;
ALTER TABLE share_link
    DROP CONSTRAINT share_link_one_view,
    DROP CONSTRAINT share_link_board,
    DROP COLUMN board_id;
DROP TABLE board_tile;
DROP TABLE board;
"""


def up(migrator, db):
    db.execute_sql(UP)


def down(migrator, db):
    db.execute_sql(DOWN)
