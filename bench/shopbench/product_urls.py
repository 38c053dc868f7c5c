from django.urls import path

from product_site.urls import urlpatterns as service_urlpatterns

from .product_views import MSToken, NoAuth, StaticToken

urlpatterns = [
    path("bench/none/", NoAuth.as_view()),
    path("bench/static/", StaticToken.as_view()),
    path("bench/xms/", MSToken.as_view()),
    path("bench/fetched/", MSToken.as_view()),
    *service_urlpatterns,
]
