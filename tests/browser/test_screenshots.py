"""`make screenshots` takes its pictures from a real page: every page in every look, in
Chromium, the dark ones dark and the phone's 375 px wide."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image, ImageStat

from tests.browser.test_dashboard_browser import post
from tests.helpers import ADMIN_EMAIL, ADMIN_PASSWORD, wait_stored
from webapp.dev import demo, screenshots

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("worker")]


def looked_at(path) -> tuple[int, str, float]:
    """A picture's width, its mode and its mean brightness (0 black to 255 white)."""
    with Image.open(path) as image:
        return image.width, image.mode, ImageStat.Stat(image.convert("L")).mean[0]


def test_every_page_is_photographed_in_every_look(chromium, live_server, app, admin, tmp_path):
    rng, now = random.Random(7), datetime.now(UTC)
    events = [demo.make_event(rng, now, timedelta(days=6)) for _ in range(600)]
    post(live_server, events)
    wait_stored(app, len(events))
    written = screenshots.photograph(chromium, live_server.url, ADMIN_EMAIL, ADMIN_PASSWORD,
                                     tmp_path)
    assert sorted(path.name for path in written) == sorted(
        screenshots.file_name(subject, look) for subject in screenshots.pages()
        for look in screenshots.LOOKS)
    for subject in screenshots.pages():
        desktop, phone, dark = (looked_at(tmp_path / f"{subject}-{name}.png")
                                for name in ("desktop", "phone", "dark"))
        assert (desktop[0], phone[0], dark[0]) == (1280, 375, 1280), subject
        assert desktop[1] == phone[1] == dark[1] == "P", subject
        assert dark[2] < 80 < desktop[2], subject
