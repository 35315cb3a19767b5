"""Channels: the channel layer lives on the same Redis as everything else."""

from fxsite.settings.env import REDIS_URL, env

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            "hosts": [
                {
                    "address": env("CHANNEL_LAYER_REDIS_URL", default=REDIS_URL),
                    # channels-redis blocks 5 s in BZPOPMIN; redis-py >= 8 defaults
                    # to a 5 s socket timeout, which would drop idle WebSockets.
                    "socket_timeout": 30,
                    "socket_connect_timeout": 5,
                }
            ],
            "prefix": "fx:ws",
            "capacity": 1000,
            "expiry": 30,
            # A server that dies (or a Daphne stopped with its sockets open)
            # never leaves its groups: every later event of that user would
            # still be written to its dead channels, up to ``capacity`` each,
            # for the default day. Memberships now lapse after this many
            # seconds; live sockets renew theirs (see AuthenticatedJsonConsumer).
            "group_expiry": env.int("CHANNEL_GROUP_EXPIRY", default=300),
        },
    }
}

# Seconds a WebSocket client has to authenticate with a first message when it
# did not pass ``?token=``.
WEBSOCKET_AUTH_TIMEOUT = env.float("WEBSOCKET_AUTH_TIMEOUT", default=10.0)
