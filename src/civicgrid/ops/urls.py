from django.urls import path

from civicgrid.ops import views

app_name = "ops"  # machine endpoints for load balancers and monitoring (docs/operations.md)

urlpatterns = [
    path("healthz", views.health, name="ops-health"),
    path("healthz/app", views.health_app, name="ops-health-app"),
    path("metrics", views.metrics, name="ops-metrics"),
]
