"""Settings: one typed list, every variable read anywhere declared in it, the docs generated."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from webapp import config
from webapp.config import SETTINGS, Config

ROOT = Path(__file__).resolve().parents[2]
CODE = ("webapp", "worker", "bench")  # read settings only through webapp/config.py
SYSTEM = {"PATH", "HOME"}  # the operating system's, not ours

ENV_READS = [
    r"os\.environ\.get\(\s*[\"']([A-Z][A-Z0-9_]*)[\"']",
    r"os\.environ\[\s*[\"']([A-Z][A-Z0-9_]*)[\"']\s*\](?!\s*=[^=])",
    r"os\.getenv\(\s*[\"']([A-Z][A-Z0-9_]*)[\"']",
    r"[\"']([A-Z][A-Z0-9_]*)[\"']\s+(?:not\s+)?in\s+os\.environ",
    r"envvar=[\"']([A-Z][A-Z0-9_]*)[\"']",
    r"(?:settings|config)\.value\(\s*[\"']([A-Z][A-Z0-9_]*)[\"']",
]
SHELL_READS = r"\$\{([A-Z][A-Z0-9_]*)(?::?[-?]([^}]*))?\}"
CONFIG_READS = r"config(?:\.get\(|\[)\s*[\"']([A-Z][A-Z0-9_]*)[\"']"
CONFIG_WRITES = r"config(?:\.setdefault\(|\[)\s*[\"']([A-Z][A-Z0-9_]*)[\"']\s*[\],]\s*(?:=|[^\]])"


def python_files(*folders: str):
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path != ROOT / "webapp" / "config.py":
                yield path, path.read_text(encoding="utf-8")


def shell_files():
    for path in [ROOT / "Procfile", ROOT / "docker-compose.yml", ROOT / "Dockerfile",
                 *sorted((ROOT / "deploy").rglob("*"))]:
        if path.is_file():
            yield path, path.read_text(encoding="utf-8")


def test_the_committed_docs_are_generated_from_the_settings():
    assert config.MARKDOWN.read_text(encoding="utf-8") == config.markdown(), (
        "docs/configuration.md is stale: run `make docs`")
    assert config.ENV_EXAMPLE.read_text(encoding="utf-8") == config.env_example(), (
        ".env.example is stale: run `make docs`")


def test_every_setting_is_documented_once():
    names = [setting.name for setting in SETTINGS]
    assert len(names) == len(set(names))
    page = config.markdown()
    example = config.env_example()
    for setting in SETTINGS:
        assert page.count(f"| `{setting.name}` |") == 1, setting.name
        assert setting.meaning.strip() and setting.group in config.GROUPS
        if setting.group != "development":
            assert example.count(f"\n# {setting.name}=") == 1, setting.name


def test_every_variable_read_anywhere_is_declared():
    read: dict[str, set[str]] = {}
    for path, text in python_files(*CODE, "tests"):
        for pattern in ENV_READS:
            for name in re.findall(pattern, text):
                read.setdefault(name, set()).add(str(path.relative_to(ROOT)))
    for path, text in shell_files():
        for name, _default in re.findall(SHELL_READS, text):
            read.setdefault(name, set()).add(str(path.relative_to(ROOT)))
    missing = {name: sorted(where) for name, where in read.items()
               if name not in config.BY_NAME and name not in SYSTEM}
    assert not missing, f"read but not in webapp/config.py SETTINGS: {missing}"
    assert {"DATABASE_URL", "PORT", "WORKER_CONCURRENCY", "TLS_DIR", "TEST_REDIS_URL"} <= set(read)


def test_the_code_reads_the_environment_only_through_the_settings():
    reads = re.compile("|".join(ENV_READS[:4]))
    found = [f"{path.relative_to(ROOT)}: {line.strip()}"
             for path, text in python_files(*CODE) for line in text.splitlines()
             if reads.search(line)]
    assert not found, "read these through webapp.config (app.config or config.value):\n" + \
        "\n".join(found)


def test_every_key_read_from_app_config_is_a_setting_or_set_in_code():
    known = set(vars(config.TestConfig())) | {k for k in dir(Config) if k.isupper()}
    written = set()
    for _path, text in python_files("webapp", "worker"):
        written |= set(re.findall(CONFIG_WRITES, text))
    unknown = {name for _path, text in python_files("webapp", "worker")
               for name in re.findall(CONFIG_READS, text)} - known - written
    assert not unknown, f"read from app.config, declared nowhere: {sorted(unknown)}"


def test_defaults_in_the_procfile_and_compose_are_the_declared_ones():
    checked = 0
    for path, text in shell_files():
        for name, default in re.findall(r"\$\{([A-Z][A-Z0-9_]*):-([^}]*)\}", text):
            setting = config.BY_NAME[name]
            assert setting.parse(default) == setting.default, (path.name, name, default)
            checked += 1
    assert checked >= 5


def test_config_is_built_from_the_settings_with_their_types():
    made = Config({"RETENTION_DAYS": "30", "ALERTS_ALLOW_PRIVATE_DESTINATIONS": "yes",
                   "REPLICA_MAX_LAG_SECONDS": "2.5", "PULSEBOARD_ENV": "production",
                   "LOG_LEVEL": "debug", "METRICS_TOKEN": ""})
    assert (made.RETENTION_DAYS, made.ALERTS_ALLOW_PRIVATE_DESTINATIONS) == (30, True)
    assert (made.REPLICA_MAX_LAG_SECONDS, made.ENV, made.LOG_LEVEL) == (2.5, "production", "DEBUG")
    assert made.SESSION_COOKIE_SECURE and made.METRICS_TOKEN is None  # empty means unset
    defaults = Config({})
    for setting in SETTINGS:
        if setting.group == "app":
            got = getattr(defaults, setting.key or setting.name)
            if setting.name != "LOG_LEVEL":
                assert got == setting.default, setting.name
            assert got is None or isinstance(got, setting.type), setting.name


def test_the_suite_config_keeps_its_own_database_and_lets_the_environment_widen_limits():
    made = config.TestConfig({"TEST_DATABASE_URL": "postgresql://t/db", "DATABASE_URL": "postgresql://p/db",
                       "RETENTION_DAYS": "40"})
    assert (made.DATABASE_URL, made.ENV, made.RETENTION_DAYS) == ("postgresql://t/db", "test", 40)
    assert config.TestConfig({}).RETENTION_DAYS == 3650


@pytest.mark.parametrize("text, expected", [("1", True), ("on", True), ("0", False),
                                            ("no", False)])
def test_switches_read_as_booleans(text, expected):
    assert config.value("ACCESS_LOG", {"ACCESS_LOG": text}) is expected
