"""Debian's nginx running deploy/nginx/ as shipped: only the upstream addresses, the ports it
listens on and the paths of the certificate and the ACME webroot are put in for a test."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT
from webapp.dev.servers import free_port, wait_for_port

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
DEPLOY = ROOT / "deploy" / "nginx"
needs_nginx = pytest.mark.skipif(not os.path.exists(NGINX),
                                 reason="needs Debian's nginx (.ci/run installs it)")
SHIPPED_CERTIFICATE = "/etc/nginx/tls/fullchain.pem"
SHIPPED_KEY = "/etc/nginx/tls/privkey.pem"
SHIPPED_WEBROOT = "/var/www/acme"


@dataclass
class Proxy:
    process: subprocess.Popen
    root: Path
    http_port: int  # the site's port-80 server
    https_port: int  # its TLS server (plain HTTP when started with tls=False)
    certificate: Path

    @property
    def https(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"


def self_signed(root: Path) -> tuple[Path, Path]:
    """A throwaway certificate for 127.0.0.1 and pulse.test, made with the openssl CLI."""
    certificate, key = root / "fullchain.pem", root / "privkey.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                    "-subj", "/CN=pulse.test", "-addext",
                    "subjectAltName=DNS:pulse.test,IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(certificate)],
                   check=True, capture_output=True, timeout=30)
    return certificate, key


def upstream_for(ports: list[int]) -> str:
    """deploy/nginx/upstream.conf with the compose service replaced by loopback nodes."""
    text = (DEPLOY / "upstream.conf").read_text()
    line = re.search(r"^\s*server web:8000(.*);$", text, re.M)
    assert line, "upstream.conf names the web service"
    servers = "".join(f"    server 127.0.0.1:{port}{line.group(1)};\n" for port in ports)
    return text.replace(line.group(0) + "\n", servers)


def site_for(http_port: int, https_port: int, certificate: Path, key: Path, webroot: Path,
             tls: bool = True) -> str:
    """deploy/nginx/pulseboard.conf on loopback ports, with this test's certificate and
    webroot. `tls=False` makes the TLS server's listener a plain one, for clients that speak
    only plain HTTP (the SSE fleet of the multi-node test); everything else stays."""
    text = (DEPLOY / "pulseboard.conf").read_text()
    listen = "listen 127.0.0.1:{} ssl http2;" if tls else "listen 127.0.0.1:{};"
    for shipped, ours in (("listen 80;", f"listen 127.0.0.1:{http_port};"),
                          ("listen 443 ssl http2;", listen.format(https_port)),
                          (SHIPPED_CERTIFICATE, str(certificate)), (SHIPPED_KEY, str(key)),
                          (SHIPPED_WEBROOT, str(webroot))):
        assert text.count(shipped) == 1, f"pulseboard.conf has one `{shipped}`"
        text = text.replace(shipped, ours)
    return text


def configure(root: Path, node_ports: list[int], tls: bool = True) -> tuple[Path, int, int,
                                                                             Path]:
    """Write the configuration into `root` and check it with `nginx -t`: the main file (what
    a distribution's nginx.conf has), the shipped upstream and site."""
    root.mkdir(parents=True, exist_ok=True)
    certificate, key = self_signed(root)
    webroot = root / "acme"
    (webroot / ".well-known" / "acme-challenge").mkdir(parents=True, exist_ok=True)
    http_port, https_port = free_port(), free_port()
    (root / "upstream.conf").write_text(upstream_for(node_ports))
    (root / "pulseboard.conf").write_text(site_for(http_port, https_port, certificate, key,
                                                   webroot, tls))
    temp = "".join(f"    {kind}_temp_path {root / kind};\n"
                   for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    conf = root / "nginx.conf"
    conf.write_text(
        ("user root;\n" if os.geteuid() == 0 else "")
        + f"worker_processes 1;\ndaemon off;\npid {root}/nginx.pid;\n"
        f"error_log {root}/error.log warn;\nevents {{ worker_connections 1024; }}\n"
        f"http {{\n    access_log off;\n{temp}    include {root}/upstream.conf;\n"
        f"    include {root}/pulseboard.conf;\n}}\n")
    check = subprocess.run([NGINX, "-t", "-p", str(root), "-e", str(root / "error.log"),
                            "-c", str(conf)], capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, check.stderr
    return conf, http_port, https_port, certificate


def start(root: Path, node_ports: list[int], tls: bool = True) -> Proxy:
    conf, http_port, https_port, certificate = configure(root, node_ports, tls)
    process = subprocess.Popen([NGINX, "-p", str(root), "-e", str(root / "error.log"),
                                "-c", str(conf)], start_new_session=True)
    wait_for_port(https_port, 10, process)
    wait_for_port(http_port, 10, process)
    return Proxy(process, root, http_port, https_port, certificate)
