from django.urls import path

from infusion_site.devices import views

app_name = "devices"

urlpatterns = [
    path("sessions/", views.my_devices, name="mine"),
    path("sessions/<int:pk>/end/", views.my_device_end, name="end"),
    path("sessions/end-others/", views.my_devices_end_others, name="end_others"),
    path("staff/", views.staff_list, name="staff"),
    path("staff/<int:pk>/sessions/", views.staff_devices, name="staff_devices"),
    path("staff/<int:pk>/sessions/end/", views.staff_devices_end, name="staff_end"),
]
