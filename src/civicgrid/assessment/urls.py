from django.urls import path

from civicgrid.assessment import views

app_name = "assessment"

urlpatterns = [
    path("calls/", views.calls, name="calls"),
    path("calls/<str:code>/", views.call, name="call"),
    path("performance/", views.performance, name="performance"),
    path("performance/<int:pk>/", views.ranking, name="ranking"),
    path("performance/<int:pk>/export.xlsx", views.ranking_export, name="ranking_export"),
]
