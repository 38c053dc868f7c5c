from service_kit.urls import common_urlpatterns

urlpatterns = [*common_urlpatterns()]
