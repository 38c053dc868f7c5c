from django.urls import path

from product_site.urls import urlpatterns as service_urlpatterns

from .product_views import (
    FetchedMSToken,
    MSToken,
    MSTokenRedisReplay,
    MSTokenWithoutReplayStore,
    NoAuth,
    StaticToken,
)

urlpatterns = [
    path("bench/none/", NoAuth.as_view()),
    path("bench/static/", StaticToken.as_view()),
    path("bench/xms/", MSToken.as_view()),
    path("bench/xms-redis/", MSTokenRedisReplay.as_view()),
    path("bench/fetched/", FetchedMSToken.as_view()),
    path("bench/xms-noreplay/", MSTokenWithoutReplayStore.as_view()),  # diagnostic, bench/profile.py
    *service_urlpatterns,
]
