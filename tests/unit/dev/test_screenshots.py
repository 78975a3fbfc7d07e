"""`make screenshots`: a picture of every report, each written one in docs/images/ and shown by
the docs, and pictures shrunk to palette PNGs of a useful height."""

from __future__ import annotations

import io
import re

from PIL import Image

from webapp.dev import screenshots
from webapp.reports import params


def written() -> set[str]:
    return {screenshots.file_name(subject, look) for subject in screenshots.pages()
            for look in screenshots.LOOKS}


def test_every_report_has_its_pictures():
    assert set(screenshots.REPORTS) == set(params.MODULES)
    assert len(written()) == (1 + len(params.MODULES)) * len(screenshots.LOOKS)


def test_docs_images_holds_exactly_the_pictures_the_command_writes():
    assert {path.name for path in screenshots.IMAGES.glob("*")} == written()


def test_the_docs_show_the_dashboard_and_every_report():
    docs = "\n".join(path.read_text(encoding="utf-8") for path in
                     (screenshots.ROOT / "README.md", *screenshots.ROOT.glob("docs/*.md")))
    shown = set(re.findall(r"images/([\w-]+\.png)", docs))
    assert shown <= written()
    assert {f"{subject}-desktop.png" for subject in screenshots.pages()} <= shown
    assert {"dashboard-phone.png", "dashboard-dark.png"} <= shown


def test_a_picture_is_cut_to_its_height_and_saved_with_a_palette():
    image = Image.new("RGB", (640, 1200))
    image.putdata([(x % 256, y % 256, (x * y) % 256) for y in range(1200) for x in range(640)])
    raw = io.BytesIO()
    image.save(raw, format="PNG")
    small = screenshots.optimise(raw.getvalue(), 1000)
    with Image.open(io.BytesIO(small)) as shrunk:
        assert shrunk.size == (640, 1000) and shrunk.mode == "P"
        assert len(shrunk.getpalette()) // 3 <= screenshots.COLOURS
    assert len(small) < len(raw.getvalue()) / 2
    with Image.open(io.BytesIO(screenshots.optimise(raw.getvalue(), 5000))) as whole:
        assert whole.size == (640, 1200)
