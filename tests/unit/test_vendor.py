"""htmx's and axe-core's versions are pinned in package.json alone; the files served are named
from it, and the tests' own (axe-core) are found where npm put them."""

from __future__ import annotations

import json
import subprocess

import pytest

from webapp import vendor


def test_the_versions_are_written_only_in_package_json():
    package = json.loads(vendor.PACKAGE_JSON.read_text(encoding="utf-8"))
    tracked = subprocess.run(["git", "ls-files"], cwd=vendor.ROOT, capture_output=True,
                             text=True, check=True).stdout.split()
    for name, version in {**package["dependencies"], **package["devDependencies"]}.items():
        pinned = [path for path in tracked if not path.startswith("package")
                  and path.endswith((".html", ".py", "Makefile", "Dockerfile", ".yml", ".toml"))
                  and f"-{version}." in (vendor.ROOT / path).read_text(errors="replace")]
        assert not pinned, f"{name} {version} is pinned outside package.json: {pinned}"


def test_the_files_copied_are_the_files_linked(tmp_path):
    package = tmp_path / "package.json"
    package.write_text(json.dumps({
        "dependencies": {"htmx.org": "9.8.7", "htmx-ext-sse": "6.5.4"},
        "vendor": {"htmx.org": {"file": "dist/htmx.min.js", "as": "htmx"},
                   "htmx-ext-sse": {"file": "dist/sse.min.js", "as": "htmx-ext-sse"}}}))
    for name, file in (("htmx.org", "htmx.min.js"), ("htmx-ext-sse", "sse.min.js")):
        (tmp_path / "node_modules" / name / "dist").mkdir(parents=True)
        (tmp_path / "node_modules" / name / "dist" / file).write_text(f"/* {name} */")
    copied = vendor.copy(tmp_path / "node_modules", tmp_path / "static" / "vendor", package)
    assert sorted(path.name for path in copied) == ["htmx-9.8.7.min.js",
                                                    "htmx-ext-sse-6.5.4.min.js"]
    assert vendor.served(package) == {"htmx.org": "vendor/htmx-9.8.7.min.js",
                                      "htmx-ext-sse": "vendor/htmx-ext-sse-6.5.4.min.js"}
    assert (tmp_path / "static" / "vendor" / "htmx-9.8.7.min.js").read_text() == "/* htmx.org */"



def test_a_test_tool_is_found_where_npm_put_it_and_its_absence_says_what_to_run(tmp_path):
    (tmp_path / "axe-core").mkdir()
    (tmp_path / "axe-core" / "axe.min.js").write_text("/* axe */")
    assert vendor.tool("axe-core", "axe.min.js", tmp_path).read_text() == "/* axe */"
    with pytest.raises(FileNotFoundError, match=r"run `make` \(npm ci\) to install axe-core"):
        vendor.tool("axe-core", "axe.js", tmp_path)
    assert vendor.pinned("axe-core") == json.loads(
        vendor.PACKAGE_JSON.read_text(encoding="utf-8"))["devDependencies"]["axe-core"]
