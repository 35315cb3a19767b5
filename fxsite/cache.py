"""Django's Redis cache with one client (and connection pool) per server and process.

Under ASGI Django makes a cache object per request context, and each object
builds its own connection pool: every request opened a Redis connection of
its own (and redis-py read its version from the installed packages' metadata
for it). Django also builds a client object per cache call. A redis-py client
and its pool are thread-safe and start afresh in a forked child, so one per
server and process is shared here.
"""

from __future__ import annotations

import threading

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient

_clients: dict[tuple, object] = {}
_lock = threading.Lock()


class SharedClient(RedisCacheClient):
    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        server = self._servers[index]
        shared = (self._pool_class, server, repr(sorted(self._pool_options.items())))
        client = _clients.get(shared)
        if client is None:
            with _lock:
                client = _clients.get(shared)
                if client is None:
                    pool = self._pool_class.from_url(server, **self._pool_options)
                    client = _clients[shared] = self._client(connection_pool=pool)
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = SharedClient
