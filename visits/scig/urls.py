from django.urls import path

from visits.scig import views

app_name = "scig"

urlpatterns = [
    path("<int:pk>/scig-teaching/", views.teaching, name="teaching"),
    path("<int:pk>/scig-teaching/sign/", views.teaching_sign, name="teaching_sign"),
]
