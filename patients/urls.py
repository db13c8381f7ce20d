from django.urls import path

from patients import views

app_name = "patients"

urlpatterns = [
    path("", views.patient_list, name="list"),
    path("new/", views.patient_create, name="create"),
    path("<int:pk>/", views.patient_detail, name="detail"),
    path("<int:pk>/edit/", views.patient_edit, name="edit"),
    path("<int:pk>/visits/", views.patient_visit_list, name="visits"),
    path("<int:pk>/history/<slug:section>/", views.patient_record_list, name="records"),
    path("<int:pk>/home-location/", views.home_locate, name="home_locate"),
    path("<int:pk>/records/<slug:section>/", views.record_add, name="record_add"),
    path("<int:pk>/care-team/", views.care_team_add, name="care_team_add"),
    path("<int:pk>/care-team/<int:nurse_id>/remove/", views.care_team_remove, name="care_team_remove"),
    path("<int:pk>/invite/", views.invite, name="invite"),
]
