"""`flask annotations add | list | delete`: notes from the command line, on the project's
clocks, with every problem named."""

from __future__ import annotations

import re

from webapp.models import Annotation, Project


def test_notes_are_added_listed_and_deleted_from_the_command_line(app, project):
    with app.app_context():
        Project.update(time_zone="Asia/Kolkata").where(Project.id == project.id).execute()
    runner = app.test_cli_runner()
    added = runner.invoke(args=["annotations", "add", "default/default", "deployed v2.3",
                                "--at", "2026-03-08T09:30"])
    assert added.exit_code == 0, added.output
    number = int(re.search(r"annotation #(\d+)", added.output)[1])
    assert "Sun 8 Mar 2026 09:30 (Asia/Kolkata)\tdeployed v2.3" in added.output
    ranged = runner.invoke(args=["annotations", "add", "default", "campaign",
                                 "--at", "2026-03-01", "--until", "2026-03-07"])
    assert ranged.exit_code == 0, ranged.output
    assert "Sun 1 Mar 2026 00:00 to Sun 8 Mar 2026 00:00 (Asia/Kolkata)" in ranged.output
    with app.app_context():
        stored = Annotation.get(Annotation.id == number)
        assert stored.starts_at.isoformat() == "2026-03-08T04:00:00+00:00"
        assert (stored.source, stored.created_by_user_id, stored.created_by_key_id) == (
            "command", None, None)

    listed = runner.invoke(args=["annotations", "list", "default"])
    assert listed.exit_code == 0
    lines = listed.output.splitlines()
    assert [line.split("\t")[2] for line in lines] == ["deployed v2.3", "campaign"]
    assert lines[0].endswith("\tthe command line")
    only_march_8 = runner.invoke(args=["annotations", "list", "default", "--from", "2026-03-08",
                                       "--to", "2026-03-08"])
    assert [line.split("\t")[2] for line in only_march_8.output.splitlines()] == [
        "deployed v2.3"]

    deleted = runner.invoke(args=["annotations", "delete", "default", str(number)])
    assert deleted.exit_code == 0 and f"annotation #{number} deleted" in deleted.output
    again = runner.invoke(args=["annotations", "delete", "default", str(number)])
    assert again.exit_code != 0 and f"no annotation #{number}" in again.output


def test_the_command_line_names_every_problem(app, project):
    runner = app.test_cli_runner()
    refused = runner.invoke(args=["annotations", "add", "default", " ", "--at", "soon",
                                  "--until", "2026-03-01"])
    assert refused.exit_code == 2
    assert "text: 1 to 200 characters" in refused.output
    assert "startsAt: must be a date (2026-03-08) or an instant" in refused.output
    reversed_range = runner.invoke(args=["annotations", "add", "default", "x", "--at",
                                         "2026-03-02", "--until", "2026-03-01"])
    assert "endsAt: must be after startsAt" in reversed_range.output
    assert "no project 'nope'" in runner.invoke(args=["annotations", "list", "nope"]).output
    bad_range = runner.invoke(args=["annotations", "list", "default", "--from", "x"])
    assert bad_range.exit_code == 2 and '"from" must be a date' in bad_range.output
    with app.app_context():
        assert Annotation.select().count() == 0
