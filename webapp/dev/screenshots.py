"""`make screenshots`: the README's and docs' pictures, taken in Chromium from a demo project.

A throw-away PostgreSQL and Redis, the Procfile's web, worker and jobs processes, demo traffic
(webapp/dev/demo.py, with a fixed seed) and two notes on the charts; then Debian's Chromium,
driven by Playwright (never a browser it downloads), photographs the dashboard and each report
at desktop width, at 375 px and in the dark theme. Each picture is cut to a useful height and
saved as a palette PNG in docs/images/, so that it weighs tens of kilobytes, not hundreds.
"""

from __future__ import annotations

import io
import os
import random
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

from webapp.config import value
from webapp.dev import demo
from webapp.dev.servers import PrivatePostgres, PrivateRedis, free_port

ROOT = Path(__file__).resolve().parents[2]
IMAGES = ROOT / "docs" / "images"
EMAIL = "demo@example.com"
EVENTS, DAYS, SEED = 12_000, 14, 26
COLOURS = 96  # a palette this size keeps text and charts crisp, a tenth of the bytes
REPORTS = {  # a question each report answers from the demo traffic
    "funnel": "step=page_view&step=signup&step=add_to_cart&step=purchase&window=1d",
    "retention": "start=signup&return=page_view&unit=day&periods=7",
    "paths": "event=signup&direction=after&depth=3&range=7d",
    "breakdown": "property=country&eventType=page_view&range=7d",
    "trends": "A=page_view&B=purchase&B.measure=sum&B.property=total&interval=day&range=7d"
              "&compare=previous",
}


@dataclass(frozen=True)
class Look:
    """One way of looking: a browser window's size, the theme it prefers, and how much of a
    long page the picture keeps."""

    name: str
    width: int
    height: int
    scheme: str
    keep: int


LOOKS = (Look("desktop", 1280, 800, "light", 1400), Look("phone", 375, 740, "light", 1700),
         Look("dark", 1280, 800, "dark", 1400))


def pages(project: str = "default") -> dict[str, str]:
    """Each picture's subject and its page: the dashboard, then every report with a result."""
    shown = {"dashboard": "/?filter=week"}
    for kind, query in REPORTS.items():
        shown[kind] = f"/projects/{project}/reports/{kind}?{query}"
    return shown


def file_name(subject: str, look: Look) -> str:
    return f"{subject}-{look.name}.png"


def optimise(png: bytes, height: int) -> bytes:
    """A screenshot cut to `height` pixels at most, as a palette PNG (no dithering: flat
    colours and text stay clean)."""
    from PIL import Image

    with Image.open(io.BytesIO(png)) as shot:
        image = shot.convert("RGB")
    if image.height > height:
        image = image.crop((0, 0, image.width, height))
    palette = image.quantize(colors=COLOURS, method=Image.Quantize.MEDIANCUT,
                             dither=Image.Dither.NONE)
    out = io.BytesIO()
    palette.save(out, format="PNG", optimize=True)
    return out.getvalue()


def photograph(browser, base_url: str, email: str, password: str, folder: Path,
               project: str = "default") -> list[Path]:
    """Log in and photograph every page of `pages()` in every look into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for look in LOOKS:
        context = browser.new_context(viewport={"width": look.width, "height": look.height},
                                      color_scheme=look.scheme)
        page = context.new_page()
        page.goto(base_url + "/login")
        page.fill("#email", email)
        page.fill("#password", password)
        page.click("button[type=submit]")
        page.wait_for_selector("#counters")
        for subject, path in pages(project).items():
            page.goto(base_url + path)
            page.wait_for_selector("#counters" if subject == "dashboard"
                                   else "#report-result table")
            page.mouse.move(0, 0)  # no hover effect in the picture
            target = folder / file_name(subject, look)
            target.write_bytes(optimise(page.screenshot(full_page=True), look.keep))
            written.append(target)
        context.close()
    return written


def chromium_path() -> str:
    path = value("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        raise click.ClickException(f"Chromium not found at {path}: install Debian's `chromium` "
                                   "package or set CHROMIUM_PATH")
    return path


def wait_for(what: str, ready, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            raise click.ClickException(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.2)


def answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=1)
    except OSError as exc:
        return getattr(exc, "code", None) == 503  # serving, even if a check still fails
    return True


def demo_notes(flask: list[str], env: dict[str, str], log) -> None:
    """Two notes on the charts, through `flask annotations add`, as a deploy script adds them."""
    now = datetime.now(UTC).replace(microsecond=0)
    for text, starts, ends in (("deployed v2.3", timedelta(days=2), None),
                               ("spring campaign", timedelta(days=5), timedelta(days=4))):
        span = ["--at", (now - starts).isoformat()]
        if ends is not None:
            span += ["--until", (now - ends).isoformat()]
        subprocess.run([*flask, "annotations", "add", "default", text, *span], env=env,
                       cwd=ROOT, check=True, stdout=log, stderr=log)


def demo_traffic(base_url: str, key: str) -> None:
    """The demo's events, the same every time (a fixed seed), over the last DAYS days."""
    rng, now = random.Random(SEED), datetime.now(UTC)
    spread = timedelta(days=DAYS)
    for sent in range(0, EVENTS, 500):
        demo.post(base_url, key, [demo.make_event(rng, now, spread)
                                  for _ in range(min(500, EVENTS - sent))])


@click.command("screenshots")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=IMAGES,
              show_default="docs/images", help="where the pictures go")
def screenshots_command(out: Path) -> None:
    """Photograph the dashboard and each report of a demo project (desktop, 375 px, dark)."""
    from playwright.sync_api import sync_playwright

    browser_path = chromium_path()
    with tempfile.TemporaryDirectory(prefix="pulseboard-screenshots-") as scratch:
        root = Path(scratch)
        postgres = PrivatePostgres(root / "postgres", port=free_port()).start()
        redis = PrivateRedis(root / "redis", port=free_port(), appendonly=False).start()
        port, password = free_port(), secrets.token_urlsafe(12)
        env = {**os.environ, "DATABASE_URL": postgres.url, "REDIS_URL": redis.url,
               "SECRET_KEY": secrets.token_hex(32), "PORT": str(port), "WEB_CONCURRENCY": "1",
               "WEBHOOK_API_KEY": "pb_live_" + secrets.token_urlsafe(24),
               "API_TOKEN": "pb_read_" + secrets.token_urlsafe(24), "ADMIN_EMAIL": EMAIL,
               "ADMIN_PASSWORD": password, "PULSEBOARD_ENV": "development",
               "PULSEBOARD_DOTENV": os.devnull, "LOG_LEVEL": "warning",
               "PROMETHEUS_MULTIPROC_DIR": str(root / "prometheus")}
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
        log = (root / "processes.log").open("w")
        processes = None
        try:
            flask = [sys.executable, "-m", "flask", "--app", "webapp.wsgi"]
            subprocess.run([*flask, "bootstrap"], env=env, cwd=ROOT, check=True, stdout=log,
                           stderr=log)
            demo_notes(flask, env, log)
            processes = subprocess.Popen(
                [sys.executable, "-m", "honcho", "start", "-f", "Procfile", "web", "worker",
                 "jobs"], env=env, cwd=ROOT, stdout=log, stderr=log, start_new_session=True)
            base_url = f"http://127.0.0.1:{port}"
            wait_for("the web process", lambda: answers(base_url + "/health"), 60)
            click.echo(f"posting {EVENTS:,} demo events ...")
            demo_traffic(base_url, env["WEBHOOK_API_KEY"])
            wait_for("the worker to store them", lambda: int(
                postgres.psql("SELECT count(*) FROM event")) >= EVENTS, 120)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=browser_path,
                    args=["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                          "--font-render-hinting=none"])
                written = photograph(browser, base_url, EMAIL, password, out)
                browser.close()
        except (subprocess.CalledProcessError, click.ClickException):
            log.flush()
            click.echo((root / "processes.log").read_text()[-3000:], err=True)
            raise
        finally:
            if processes is not None and processes.poll() is None:
                os.killpg(processes.pid, signal.SIGTERM)  # honcho stops what it started
                processes.wait(30)
            log.close()
            redis.stop()
            postgres.stop("immediate")
    total = sum(path.stat().st_size for path in written)
    click.echo(f"wrote {len(written)} pictures ({total / 1024:,.0f} KiB) to {out}")


def main() -> None:
    screenshots_command(prog_name="make screenshots")


if __name__ == "__main__":
    main()
