"""docker-compose.yml, Dockerfile and Procfile, checked without a Docker engine."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from ruamel.yaml import YAML

from webapp.ingest.queue import (
    ALERTS_QUEUE,
    JOBS_QUEUES,
    REPORTS_QUEUE,
    STORE_QUEUE,
    STORE_QUEUES,
)
from webapp.reports import jobs
from worker import alerting

ROOT = Path(__file__).resolve().parents[3]


def test_compose_file_matches_the_compose_spec():
    checker = Path(sys.executable).parent / "check-jsonschema"
    result = subprocess.run(
        [str(checker), "--builtin-schema", "vendor.compose-spec", str(ROOT / "docker-compose.yml")],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_runs_every_process_from_one_image_on_durable_services():
    compose = YAML(typ="safe").load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"postgres", "redis", "release", "web", "worker", "jobs"} <= set(services)
    images = {services[name]["image"] for name in ("release", "web", "worker", "jobs")}
    assert images == {"pulseboard:latest"}
    assert "--appendonly" in services["redis"]["command"]
    assert services["web"]["depends_on"]["release"]["condition"] == "service_completed_successfully"


def procfile() -> dict[str, str]:
    return dict(line.split(":", 1) for line in (ROOT / "Procfile").read_text().splitlines()
                if line.strip())


def test_procfile_has_release_web_both_workers_and_beat():
    entries = procfile()
    assert set(entries) == {"release", "web", "worker", "jobs", "beat"}
    assert "bootstrap" in entries["release"]  # migrations and the default project
    assert "gunicorn" in entries["web"] and "webapp/gunicorn_conf.py" in entries["web"]
    assert entries["worker"].split()[0] == "celery" and entries["jobs"].split()[0] == "celery"
    assert entries["beat"].split()[:4] == ["celery", "--app", "worker.app", "beat"]


def queues_of(command: list[str]) -> set[str]:
    return set(command[command.index("--queues") + 1].split(","))


def test_events_are_stored_by_workers_that_run_no_report_nor_alert():
    """The store's queues and the jobs' queues go to different processes, the same in the
    Procfile, in compose and in `make run` (which runs the Procfile)."""
    compose = YAML(typ="safe").load((ROOT / "docker-compose.yml").read_text())["services"]
    entries = procfile()
    for kind, queues in (("worker", STORE_QUEUES), ("jobs", JOBS_QUEUES)):
        assert queues_of(entries[kind].split()) == set(queues)
        assert queues_of(compose[kind]["command"]) == set(queues)
    assert not set(STORE_QUEUES) & set(JOBS_QUEUES)
    assert STORE_QUEUE == "celery"  # Celery's default queue: the store's wake-ups go there
    assert alerting.QUEUE == ALERTS_QUEUE and jobs.QUEUE == REPORTS_QUEUE
    run = (ROOT / "webapp/dev/run.py").read_text()
    assert '"web", "worker", "jobs",\n             "beat"' in run
    assert compose["beat"]["command"][:4] == ["celery", "--app", "worker.app", "beat"]


def test_dockerfile_copies_only_what_exists():
    for source in re.findall(r"^COPY (?!--from)(.+) \S+$", (ROOT / "Dockerfile").read_text(), re.M):
        for name in source.split():
            assert (ROOT / name).exists(), f"Dockerfile copies missing {name}"


def test_web_scales_behind_nginx():
    compose = YAML(typ="safe").load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert "ports" not in services["web"], "a fixed host port stops `--scale web=3`"
    nginx = services["nginx"]
    assert nginx["depends_on"]["web"]["condition"] == "service_healthy"
    for volume in nginx["volumes"]:
        source = volume.split(":")[0]
        if not source.startswith("${"):  # the certificate and ACME directories are the host's
            assert (ROOT / source).is_file(), f"nginx mounts missing {source}"
    site = (ROOT / "deploy/nginx/pulseboard.conf").read_text()
    stream = site[site.index("location = /stream"):]
    for setting in ("proxy_buffering off", "proxy_read_timeout 1h"):
        assert setting in stream
    assert 'proxy_set_header Connection ""' in site and "proxy_http_version 1.1" in site
    upstream = (ROOT / "deploy/nginx/upstream.conf").read_text()
    assert "server web:8000 max_fails=" in upstream and "keepalive" in upstream


def test_compose_serves_https_and_the_app_trusts_its_proxy():
    compose = YAML(typ="safe").load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    nginx = services["nginx"]
    assert {port.rsplit(":", 1)[1] for port in nginx["ports"]} == {"80", "443"}
    mounts = {volume.rsplit(":", 2)[1] for volume in nginx["volumes"]}
    assert {"/etc/nginx/tls", "/var/www/acme"} <= mounts
    site = (ROOT / "deploy/nginx/pulseboard.conf").read_text()
    for path in ("/etc/nginx/tls/fullchain.pem", "/etc/nginx/tls/privkey.pem", "/var/www/acme"):
        assert path in site
    assert services["web"]["environment"]["TRUSTED_PROXIES"] == "1"
