from django.urls import path

from civicgrid.ops import views

urlpatterns = [
    path("healthz", views.health, name="ops-health"),
    path("healthz/app", views.health_app, name="ops-health-app"),
    path("metrics", views.metrics, name="ops-metrics"),
]
