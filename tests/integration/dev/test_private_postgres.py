"""`make run`'s private PostgreSQL, started by root (as in a container), changes no permission
of any folder above the project and leaves the project's files owned by whoever ran it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from webapp.dev.servers import PrivatePostgres, postgres_bin


def modes(paths) -> dict[Path, tuple[int, int]]:
    return {path: (path.stat().st_mode, path.stat().st_uid) for path in paths}


@pytest.mark.skipif(os.geteuid() != 0, reason="only root needs PostgreSQL to run as another "
                                              "user; this machine runs the suite unprivileged")
def test_started_by_root_it_widens_no_folder_above_the_project(tmp_path):
    home = tmp_path / "home"  # like /root: no one else may enter
    home.mkdir()
    home.chmod(0o700)
    project = home / "project"
    above = [home, *home.parents, *postgres_bin().parents]
    before = modes(above)
    server = PrivatePostgres(project / "var" / "postgres", database="check").start()
    try:
        assert server.psql("SELECT 1").strip() == "1"
        assert server.is_running()
    finally:
        server.stop("immediate")
    assert not server.is_running()
    assert modes(above) == before
    owners = {path.lstat().st_uid for path in project.rglob("*")}
    assert owners == {os.geteuid()}  # nothing handed to another account
