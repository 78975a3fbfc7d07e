"""`make run`: private PostgreSQL and Redis under ./var/, secrets, migrations, then the Procfile."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
from pathlib import Path

from webapp import config as settings
from webapp.dev.servers import PrivatePostgres, PrivateRedis

ROOT = Path(__file__).resolve().parents[2]
VAR = (ROOT / settings.value("PULSEBOARD_VAR")).resolve()


def dev_secrets() -> dict[str, str]:
    """Secrets kept in ./var/secrets.json so a second `make run` reuses them."""
    path = VAR / "secrets.json"
    stored = json.loads(path.read_text()) if path.exists() else {}
    wanted = {
        "SECRET_KEY": lambda: secrets.token_hex(32),
        "WEBHOOK_API_KEY": lambda: "pb_live_" + secrets.token_urlsafe(24),
        "API_TOKEN": lambda: "pb_read_" + secrets.token_urlsafe(24),
        "ADMIN_PASSWORD": lambda: secrets.token_urlsafe(12),
    }
    for name, make in wanted.items():
        stored.setdefault(name, make())
    path.write_text(json.dumps(stored, indent=2) + "\n")
    path.chmod(0o600)
    return stored


def banner(env: dict[str, str]) -> str:
    base = f"http://127.0.0.1:{env['PORT']}"
    key, token = env["WEBHOOK_API_KEY"], env["API_TOKEN"]
    return f"""
  Pulseboard is starting on {base}

  Dashboard   {base}/
  Login       {env['ADMIN_EMAIL']} / {env['ADMIN_PASSWORD']}
  Ingest key  {key}
  Read token  {token}
  Database    {env['DATABASE_URL']}
  Redis       {env['REDIS_URL']}

  Send an event:
    curl -X POST {base}/webhook -H "Content-Type: application/json" -H "X-API-Key: {key}" \\
      -d '{{"eventType":"page_view","userId":"123","metadata":{{"page":"home"}}}}'
  Read it back:
    curl -H "Authorization: Bearer {token}" "{base}/events?filter=hour"
    curl -H "Authorization: Bearer {token}" "{base}/events/stats?filter=day"

  Press Ctrl-C to stop everything.
"""


def main() -> int:
    VAR.mkdir(exist_ok=True)
    env = dict(os.environ)
    for name, value in dev_secrets().items():
        if not env.get(name):  # the environment (or .env) wins over generated secrets
            env[name] = value
    env.setdefault("PORT", str(settings.value("PORT", env)))
    env.setdefault("ADMIN_EMAIL", settings.value("ADMIN_EMAIL", env))
    env.setdefault("PULSEBOARD_ENV", "development")
    # prometheus-client's multiprocess files of the web processes (gunicorn empties it at start)
    env.setdefault("PROMETHEUS_MULTIPROC_DIR", str(VAR / "prometheus"))
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    started = []
    try:
        if not env.get("DATABASE_URL"):
            print("starting private PostgreSQL in var/postgres ...", flush=True)
            started.append(PrivatePostgres(VAR / "postgres").start())
            env["DATABASE_URL"] = started[-1].url
        if not env.get("REDIS_URL"):
            print("starting private Redis in var/redis ...", flush=True)
            started.append(PrivateRedis(VAR / "redis").start())
            env["REDIS_URL"] = started[-1].url
        flask = [sys.executable, "-m", "flask", "--app", "webapp.wsgi"]
        subprocess.run([*flask, "bootstrap"], env=env, cwd=ROOT, check=True)
        print(banner(env), flush=True)
        honcho = subprocess.Popen(
            [sys.executable, "-m", "honcho", "start", "-f", "Procfile", "web", "worker", "jobs",
             "beat"],
            env=env, cwd=ROOT,
        )

        def stop(signum, _frame):
            honcho.send_signal(signal.SIGTERM)  # honcho stops web, both workers and beat

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        code = honcho.wait()
        return 0 if code in (0, -signal.SIGTERM, 130, 143) else code
    except subprocess.CalledProcessError as exc:
        print(f"set-up failed: {exc}", file=sys.stderr)
        return 1
    finally:
        for server in reversed(started):
            server.stop()
        if started:
            print("stopped the private PostgreSQL and Redis", flush=True)


if __name__ == "__main__":
    sys.exit(main())
