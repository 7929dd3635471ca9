from django.urls import path

from civicgrid.warning import views

app_name = "warning"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("<int:alert_id>/", views.detail, name="alert"),
    path("<int:alert_id>/act/<str:action>/", views.act, name="act"),
]
