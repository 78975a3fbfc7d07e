"""The command line is a package with one module per command group, its imports at the top."""

from __future__ import annotations

import ast
from pathlib import Path

import click

from webapp import cli

PACKAGE = Path(cli.__file__).parent
GROUPS = {"db": "database", "bootstrap": "database", "projects": "projects",
          "alerts": "alerts", "annotations": "notes", "rollups": "rollups",
          "partitions": "partitions", "properties": "properties",
          "deadletter": "deadletters"}


def test_no_module_of_the_cli_imports_inside_a_function():
    modules = sorted(PACKAGE.glob("*.py"))
    assert len(modules) >= len(set(GROUPS.values()))
    for path in modules:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                inner = [n for n in ast.walk(node) if isinstance(n, (ast.Import, ast.ImportFrom))]
                assert not inner, f"{path.name}: {node.name} imports inside the function"


def test_each_command_group_has_a_module_of_its_own():
    app = click.Group()
    cli.init_app(type("App", (), {"cli": app})())
    assert set(app.commands) == set(GROUPS)
    for name, command in app.commands.items():
        module = command.callback.__module__ if command.callback else None
        module = module or next(iter(command.commands.values())).callback.__module__
        assert module.rpartition(".")[2] == GROUPS[name], name
