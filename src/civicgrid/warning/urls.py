from django.urls import path

from civicgrid.warning import views

app_name = "warning"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("<int:pk>/", views.detail, name="alert"),
    path("<int:pk>/act/<str:action>/", views.act, name="act"),
]
