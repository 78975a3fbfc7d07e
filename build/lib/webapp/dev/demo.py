"""Demo traffic: realistic events posted through the webhook of a running Pulseboard."""

from __future__ import annotations

import json
import os
import random
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

from webapp import config as settings

PAGES = ["/", "/pricing", "/docs", "/blog/launch", "/signup", "/checkout", "/account"]
TYPES = [("page_view", 60), ("click", 18), ("search", 8), ("signup", 5), ("add_to_cart", 5),
         ("purchase", 3), ("error.client", 1)]
COUNTRIES = ["DE", "US", "FR", "IN", "BR", "JP", "GB", "NG"]


def make_event(rng: random.Random, now: datetime, spread: timedelta) -> dict:
    kind = rng.choices([t for t, _ in TYPES], weights=[w for _, w in TYPES])[0]
    # most traffic is recent, with a long tail over the spread
    age = spread * (rng.random() ** 3)
    metadata = {"page": rng.choice(PAGES), "country": rng.choice(COUNTRIES)}
    if kind == "purchase":
        metadata["total"] = round(rng.uniform(5, 250), 2)
    if kind == "search":
        metadata["query"] = rng.choice(["pricing", "sso", "export csv", "api limits"])
    return {"eventType": kind, "userId": f"user-{int(rng.paretovariate(1.2)) % 900}",
            "timestamp": (now - age).isoformat(timespec="milliseconds"), "metadata": metadata}


def post(url: str, key: str, events: list[dict]) -> None:
    request = urllib.request.Request(url.rstrip("/") + "/webhook", data=json.dumps(events).encode(),
                                     headers={"Content-Type": "application/json", "X-API-Key": key})
    with urllib.request.urlopen(request, timeout=30) as response:
        if response.status != 202:
            raise click.ClickException(f"the webhook answered {response.status}")


@click.command("demo")
@click.option("--url", default=lambda: f"http://127.0.0.1:{settings.value('PORT')}",
              show_default="http://127.0.0.1:$PORT", help="a running Pulseboard")
@click.option("--key", envvar="WEBHOOK_API_KEY", help="ingest key (default: WEBHOOK_API_KEY)")
@click.option("--events", "count", default=20_000, show_default=True)
@click.option("--days", default=7, show_default=True, help="how far back timestamps reach")
@click.option("--batch", default=500, show_default=True)
@click.option("--seed", default=None, type=int)
def demo_command(url, key, count, days, batch, seed):
    """Post realistic demo traffic through the webhook, with a progress bar."""
    if not key:
        raise click.UsageError("no ingest key: pass --key or set WEBHOOK_API_KEY")
    rng = random.Random(seed)
    now = datetime.now(UTC)
    spread = timedelta(days=days)
    try:
        with click.progressbar(length=count, label="posting demo events") as bar:
            sent = 0
            while sent < count:
                size = min(batch, count - sent)
                post(url, key, [make_event(rng, now, spread) for _ in range(size)])
                sent += size
                bar.update(size)
    except urllib.error.URLError as exc:
        raise click.ClickException(f"could not reach {url}: {exc.reason} (is `make run` "
                                   "running?)") from None
    click.echo(f"posted {count} events to {url}; open {url}/ to watch them")


def main() -> None:
    """`make demo`: use the keys `make run` keeps in var/secrets.json."""
    secrets = Path(settings.value("PULSEBOARD_VAR")) / "secrets.json"
    if not settings.value("WEBHOOK_API_KEY") and secrets.exists():
        os.environ["WEBHOOK_API_KEY"] = json.loads(secrets.read_text())["WEBHOOK_API_KEY"]
    demo_command(prog_name="make demo")


if __name__ == "__main__":
    main()
