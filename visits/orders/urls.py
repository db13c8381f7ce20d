from django.urls import path

from visits.orders import views

app_name = "orders"

urlpatterns = [
    path("patients/<int:patient_pk>/orders/new/", views.order_create, name="create"),
    path("patients/<int:patient_pk>/orders/preview/", views.order_preview, name="preview"),
    path("orders/<int:pk>/", views.order_detail, name="detail"),
    path("orders/<int:pk>/edit/", views.order_edit, name="edit"),
    path("orders/<int:pk>/preview/", views.order_edit_preview, name="edit_preview"),
]
