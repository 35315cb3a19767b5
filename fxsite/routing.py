"""WebSocket routes of every app, mounted under ``/ws/``."""

from apps.marketdata.routing import websocket_urlpatterns as marketdata_ws
from apps.monitoring.routing import websocket_urlpatterns as monitoring_ws
from apps.trading.routing import websocket_urlpatterns as trading_ws

websocket_urlpatterns = [
    *monitoring_ws,
    *marketdata_ws,
    *trading_ws,
]
