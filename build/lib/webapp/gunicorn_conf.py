"""gunicorn settings: gevent workers, with psycopg2 made cooperative in each worker, and
prometheus-client's multiprocess mode (each worker's own metrics merged at /metrics).

The worker class is defined here rather than in the `webapp` package: gunicorn imports it in
the master, before forking, and importing `webapp` there would create its locks and clients
before gevent patches the worker (a plain lock then blocks every request of the process)."""

import importlib.util
import os
import shutil
import sys
import tempfile
from pathlib import Path

from gunicorn.workers.ggevent import GeventPyWSGIWorker, PyWSGIHandler

ONE_SEND_MAX = 16 * 1024  # bytes of body sent together with the headers


class Handler(PyWSGIHandler):
    """pywsgi sends the status line and headers, then the body, in two system calls. For the
    short answers most requests get (a `202` of /webhook is about 200 bytes) the second costs
    as much as the first: about a tenth of a web process's CPU under load. So a first piece of
    body up to ONE_SEND_MAX leaves with the headers; a larger one is written as pywsgi writes
    it (copying it would cost more than the call saved)."""

    def _write_with_headers(self, data):
        if not data or len(data) > ONE_SEND_MAX:
            return super()._write_with_headers(data)
        pieces: list = []
        self._sendall = pieces.append  # what pywsgi would send, collected (chunk framing too)
        try:
            super()._write_with_headers(data)
        finally:
            del self._sendall
        self._sendall(b"".join(pieces))


class Worker(GeventPyWSGIWorker):
    wsgi_handler = Handler


def _settings():
    """webapp/config.py loaded on its own (it needs only the standard library), for the reason
    above: importing it as `webapp.config` would import the whole package."""
    spec = importlib.util.spec_from_file_location(
        "pulseboard_settings", Path(__file__).with_name("config.py"))
    module = sys.modules[spec.name] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


setting = _settings().value
# All interfaces, as a platform or a container expects, unless this is a development machine
# (`make run` and the tests say so, explicitly): there, loopback only.
local = setting("PULSEBOARD_ENV", default=None) in ("development", "test")
bind = f"{'127.0.0.1' if local else '0.0.0.0'}:{setting('PORT')}"
workers = setting("WEB_CONCURRENCY")
worker_class = setting("WEB_WORKER_CLASS") or Worker
worker_connections = setting("WORKER_CONNECTIONS")
timeout = 60
graceful_timeout = 10
keepalive = 5
accesslog = "-" if setting("ACCESS_LOG") else None
loglevel = setting("LOG_LEVEL")

# prometheus-client keeps each worker's metrics in files here, merged when /metrics is read; set
# before any worker imports the client. A directory of this server's own unless one is given.
MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"
if not setting(MULTIPROC_DIR):
    os.environ[MULTIPROC_DIR] = tempfile.mkdtemp(prefix="pulseboard-metrics-")


def on_starting(server):
    """Values of an earlier run's processes are no part of this one's."""
    folder = os.environ[MULTIPROC_DIR]
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder, exist_ok=True)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def post_fork(server, worker):
    from psycogreen.gevent import patch_psycopg

    patch_psycopg()


def post_worker_init(worker):
    import gc
    import signal

    import gevent

    # The app's long-lived objects (modules, templates, routes) leave the collector's view:
    # parsing a large body allocates thousands of dicts, and each collection they trigger
    # would otherwise walk all of them again.
    gc.freeze()

    # Asked to stop, a worker waits up to graceful_timeout for its requests to finish, and a
    # dashboard's stream never does: end the streams at once, then stop as gunicorn would.
    stop = signal.getsignal(signal.SIGTERM)

    def close_streams_and_stop(signum, frame):
        from webapp.live.stream import close_streams

        gevent.spawn(close_streams)
        stop(signum, frame)

    signal.signal(signal.SIGTERM, close_streams_and_stop)
    signal.siginterrupt(signal.SIGTERM, False)  # as gunicorn sets it: requests run on
