from django.urls import path

from apps.marketdata.consumers import PricesConsumer

websocket_urlpatterns = [
    path("ws/prices/", PricesConsumer.as_asgi()),
]
