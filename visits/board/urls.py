from django.urls import path

from visits.board import views as views_board

app_name = "schedule"

urlpatterns = [
    path("", views_board.board, name="board"),
    path("nurses/<int:nurse_id>/", views_board.nurse_availability, name="nurse_availability"),
    path("nurses/<int:nurse_id>/time-off/", views_board.time_off_add, name="time_off_add"),
    path(
        "nurses/<int:nurse_id>/time-off/<int:time_off_id>/remove/", views_board.time_off_remove, name="time_off_remove"
    ),
    path("visits/<int:pk>/assign/", views_board.assign, name="assign"),
    path("visits/<int:pk>/unassign/", views_board.unassign, name="unassign"),
    path("visits/<int:pk>/reschedule/", views_board.reschedule, name="reschedule"),
    path("visits/<int:pk>/cancel/", views_board.cancel, name="cancel"),
    path("visits/<int:pk>/missed/", views_board.missed, name="missed"),
]
