from django.urls import path

from visits.board import views

app_name = "schedule"

urlpatterns = [
    path("", views.board, name="board"),
    path("patients/", views.patient_search, name="patient_search"),
    path("nurses/<int:nurse_id>/", views.nurse_availability, name="nurse_availability"),
    path("nurses/<int:nurse_id>/time-off/", views.time_off_add, name="time_off_add"),
    path("nurses/<int:nurse_id>/time-off/<int:time_off_id>/remove/", views.time_off_remove, name="time_off_remove"),
    path("visits/<int:pk>/", views.visit_card, name="visit_card"),
    path("visits/<int:pk>/nurses/", views.nurse_picker, name="nurse_picker"),
    path("visits/<int:pk>/assign/", views.assign, name="assign"),
    path("visits/<int:pk>/unassign/", views.unassign, name="unassign"),
    path("visits/<int:pk>/reschedule/", views.reschedule, name="reschedule"),
    path("visits/<int:pk>/cancel/", views.cancel, name="cancel"),
    path("visits/<int:pk>/missed/", views.missed, name="missed"),
]
