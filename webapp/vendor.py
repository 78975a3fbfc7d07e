"""Browser libraries served from static/vendor/, their versions pinned in package.json alone.

package.json's `dependencies` pin each version and its `vendor` block names the file to serve;
`copy()` (run by `make` and the Dockerfile, as `python webapp/vendor.py`) puts each under
static/vendor/ with its version in the name, and the templates link the names `served()` gives.
`devDependencies` are the test suite's own (axe-core): `tool()` finds their files where `npm ci`
left them; they are never copied or served. Standard library only: the Dockerfile runs it before
the app's dependencies are installed.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE_JSON = ROOT / "package.json"
VENDOR = ROOT / "static" / "vendor"


def _files(package_json: Path) -> dict[str, tuple[str, str]]:
    """Each vendored package: (its file in node_modules, its name under static/vendor/)."""
    package = json.loads(package_json.read_text(encoding="utf-8"))
    files = {}
    for name, spec in package["vendor"].items():
        version = package["dependencies"][name]
        stem, suffix = spec["as"], spec["file"].rsplit("/", 1)[-1].split(".", 1)[1]
        files[name] = (f"{name}/{spec['file']}", f"{stem}-{version}.{suffix}")
    return files


def served(package_json: Path = PACKAGE_JSON) -> dict[str, str]:
    """Each vendored package's path under static/: "htmx.org" -> "vendor/htmx-<version>.min.js"."""
    return {name: f"vendor/{target}" for name, (_source, target) in _files(package_json).items()}


def pinned(name: str, package_json: Path = PACKAGE_JSON) -> str:
    """The version package.json pins for a package, served or the tests' own."""
    package = json.loads(package_json.read_text(encoding="utf-8"))
    return {**package.get("devDependencies", {}), **package["dependencies"]}[name]


def tool(name: str, file: str, node_modules: Path = ROOT / "node_modules") -> Path:
    """A file of a package the tests use (package.json's devDependencies), as `npm ci` left it."""
    path = node_modules / name / file
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: run `make` (npm ci) to install {name}")
    return path


def copy(node_modules: Path = ROOT / "node_modules", vendor: Path = VENDOR,
         package_json: Path = PACKAGE_JSON) -> list[Path]:
    """Copy each vendored file from node_modules (as `npm ci` left it) to static/vendor/."""
    vendor.mkdir(parents=True, exist_ok=True)
    done = []
    for source, target in _files(package_json).values():
        done.append(Path(shutil.copyfile(node_modules / source, vendor / target)))
    return done


if __name__ == "__main__":
    for path in copy(*(Path(arg) for arg in sys.argv[1:3])):
        print(f"copied {path.name}")
