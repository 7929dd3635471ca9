from django.urls import path

from civicgrid.petitions import views

app_name = "petitions"

urlpatterns = [
    path("", views.register, name="register"),
]
