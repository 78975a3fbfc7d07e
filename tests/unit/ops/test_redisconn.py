"""Redis settings for each client: straight to REDIS_URL, or through Sentinel."""

from __future__ import annotations

from webapp import redisconn

SENTINEL = {"REDIS_URL": "redis://:s3cret@ignored:6379/2",
            "REDIS_SENTINELS": "10.0.0.1:26379, 10.0.0.2:26380",
            "REDIS_SENTINEL_MASTER": "pb"}


def test_without_sentinel_everything_uses_redis_url():
    config = {"REDIS_URL": "redis://127.0.0.1:6379/0", "REDIS_SENTINELS": None}
    assert redisconn.sentinels(config) == []
    assert redisconn.broker(config) == ("redis://127.0.0.1:6379/0", {})
    assert redisconn.limiter_storage(config) == ("redis://127.0.0.1:6379/0", {})


def test_with_sentinel_each_client_names_the_master_and_keeps_db_and_password():
    assert redisconn.sentinels(SENTINEL) == [("10.0.0.1", 26379), ("10.0.0.2", 26380)]
    url, options = redisconn.broker(SENTINEL)
    assert url == "sentinel://:s3cret@10.0.0.1:26379/2;sentinel://:s3cret@10.0.0.2:26380/2"
    assert options == {"master_name": "pb"}
    uri, options = redisconn.limiter_storage(SENTINEL)
    assert uri == "redis+sentinel://10.0.0.1:26379,10.0.0.2:26380/pb"
    assert options == {"db": 2, "use_replicas": False, "password": "s3cret"}
    client = redisconn.client(SENTINEL, socket_timeout=1)  # no connection until first use
    assert client.connection_pool.service_name == "pb"
    assert client.connection_pool.connection_kwargs["db"] == 2
