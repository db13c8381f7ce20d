from django.urls import path

from visits.orders import views as views_orders

app_name = "orders"

urlpatterns = [
    path("patients/<int:patient_pk>/orders/new/", views_orders.order_create, name="create"),
    path("patients/<int:patient_pk>/orders/preview/", views_orders.order_preview, name="preview"),
    path("orders/<int:pk>/", views_orders.order_detail, name="detail"),
    path("orders/<int:pk>/edit/", views_orders.order_edit, name="edit"),
    path("orders/<int:pk>/preview/", views_orders.order_edit_preview, name="edit_preview"),
]
