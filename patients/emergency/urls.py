from django.urls import path

from patients.emergency import views

app_name = "emergency"

urlpatterns = [
    path("", views.emergency_access_list, name="list"),
    path("new/", views.emergency_access_start, name="start"),
    path("<int:pk>/end/", views.emergency_access_end, name="end"),
]
