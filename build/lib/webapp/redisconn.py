"""Connections to Redis for every client of it (cache, pub/sub, broker, rate limits): straight
to REDIS_URL, or to the master that Redis Sentinel names when REDIS_SENTINELS is set."""

from __future__ import annotations

from urllib.parse import urlsplit

from redis import Redis
from redis.sentinel import Sentinel


def sentinels(config) -> list[tuple[str, int]]:
    """REDIS_SENTINELS ("host:port,host:port") as (host, port) pairs; empty when unset."""
    pairs = []
    for item in (config.get("REDIS_SENTINELS") or "").split(","):
        if item.strip():
            host, _, port = item.strip().rpartition(":")
            pairs.append((host or "127.0.0.1", int(port)))
    return pairs


def _db_and_password(config) -> tuple[int, str | None]:
    """With Sentinel, REDIS_URL still gives the database number and the password."""
    url = urlsplit(config.get("REDIS_URL") or "redis://")
    path = url.path.strip("/")
    return (int(path) if path.isdigit() else 0), url.password


def client(config, **options) -> Redis:
    """A Redis client of the current master."""
    found = sentinels(config)
    if not found:
        return Redis.from_url(config["REDIS_URL"], **options)
    db, password = _db_and_password(config)
    return Sentinel(found, socket_timeout=options.get("socket_timeout", 5)).master_for(
        config["REDIS_SENTINEL_MASTER"], db=db, password=password, **options)


def broker(config) -> tuple[str, dict]:
    """Celery's broker URL and the transport options Sentinel needs (none without it)."""
    found = sentinels(config)
    if not found:
        return config["REDIS_URL"], {}
    db, password = _db_and_password(config)
    auth = f":{password}@" if password else ""
    url = ";".join(f"sentinel://{auth}{host}:{port}/{db}" for host, port in found)
    return url, {"master_name": config["REDIS_SENTINEL_MASTER"]}


def limiter_storage(config) -> tuple[str, dict]:
    """The rate limits' storage URI (flask-limiter / limits) and extra options."""
    found = sentinels(config)
    if not found:
        return config["REDIS_URL"], {}
    db, password = _db_and_password(config)
    hosts = ",".join(f"{host}:{port}" for host, port in found)
    options = {"db": db, "use_replicas": False}  # counts are read where they are written
    if password:
        options["password"] = password
    return f"redis+sentinel://{hosts}/{config['REDIS_SENTINEL_MASTER']}", options
