"""The live side of market data in Redis: latest quotes and pub/sub messages.

- ``<prefix>:quote:<SYMBOL>``: the latest quote as JSON (only ever replaced by
  a newer one, atomically, so a late import never rewinds it).
- ``<prefix>:tick:<SYMBOL>`` / ``<prefix>:bar:<SYMBOL>``: pub/sub channels the
  WebSocket hub of every Daphne process listens to.
"""

from __future__ import annotations

import json
from functools import cache

import redis
from django.conf import settings

_SET_IF_NEWER = """
local current = redis.call('GET', KEYS[1])
if current then
  local ts = cjson.decode(current)['ts']
  if ts and tonumber(ts) >= tonumber(ARGV[2]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1])
return 1
"""


@cache
def _client_for(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)


def client() -> redis.Redis:
    return _client_for(settings.REDIS_URL)


def prefix() -> str:
    return settings.MARKETDATA_PUBSUB_PREFIX


def quote_key(symbol: str) -> str:
    return f"{prefix()}:quote:{symbol}"


def tick_channel(symbol: str) -> str:
    return f"{prefix()}:tick:{symbol}"


def bar_channel(symbol: str) -> str:
    return f"{prefix()}:bar:{symbol}"


def channel_pattern() -> str:
    return f"{prefix()}:*"


def publish(ticks: list[dict], bars: list[dict], latest: dict | None) -> None:
    """Publish tick and bar messages and store the latest quote, in one round trip."""
    r = client()
    pipe = r.pipeline(transaction=False)
    if latest is not None:
        pipe.eval(_SET_IF_NEWER, 1, quote_key(latest["symbol"]), json.dumps(latest), latest["ts"])
    for message in ticks:
        pipe.publish(tick_channel(message["symbol"]), json.dumps(message))
    for message in bars:
        pipe.publish(bar_channel(message["symbol"]), json.dumps(message))
    pipe.execute()


def quote_store(latest: dict) -> None:
    client().eval(_SET_IF_NEWER, 1, quote_key(latest["symbol"]), json.dumps(latest), latest["ts"])


def quotes_get(symbols: list[str]) -> list[dict | None]:
    if not symbols:
        return []
    values = client().mget([quote_key(symbol) for symbol in symbols])
    return [json.loads(value) if value else None for value in values]
