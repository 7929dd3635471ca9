from django.urls import path

from civicgrid.assessment import views

app_name = "assessment"

urlpatterns = [
    path("calls/", views.calls, name="calls"),
    path("calls/<str:code>/", views.call, name="call"),
]
