from django.urls import path

from api.metrics import metrics
from api.v1 import api

urlpatterns = [
    path("api/v1/", api.urls),
    path("metrics", metrics, name="metrics"),
]
