from django.urls import path

from civicgrid.disputes import views

app_name = "disputes"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("screening/", views.screening, name="screening"),
]
