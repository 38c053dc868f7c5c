from django.urls import path

from billing_site.urls import urlpatterns as service_urlpatterns

from .billing_views import call

urlpatterns = [path("bench/call/<str:mode>/", call), *service_urlpatterns]
