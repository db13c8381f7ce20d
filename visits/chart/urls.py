from django.urls import path

from visits.chart import my_day as views
from visits.chart import records as views_records
from visits.chart import views as views_chart
from visits.chart.checkin import views as views_checkin
from visits.chart.checklist import views as views_checklist
from visits.chart.infusion import views as views_infusion
from visits.chart.signoff import views as views_signoff

app_name = "visits"

urlpatterns = [
    path("today/", views.my_day, name="today"),
    path("<int:pk>/", views_chart.chart, name="chart"),
    path("<int:pk>/check-in/", views_checkin.check_in, name="check_in"),
    path("<int:pk>/check-out/", views_checkin.check_out, name="check_out"),
    path("<int:pk>/checklist/", views_checklist.checklist_save, name="checklist_save"),
    path("<int:pk>/checklist/override/", views_checklist.checklist_override, name="checklist_override"),
    path("<int:pk>/checklist/complete/", views_checklist.checklist_complete, name="checklist_complete"),
    path("<int:pk>/premedications/", views_checklist.premedication_add, name="premedication_add"),
    path("<int:pk>/vials/", views_checklist.vial_add, name="vial_add"),
    path("<int:pk>/vials/<int:vial_pk>/remove/", views_checklist.vial_remove, name="vial_remove"),
    path("<int:pk>/print/", views_records.print_record, name="print"),
    path("recall/", views_records.recall, name="recall"),
    path("<int:pk>/next/", views_infusion.whats_next, name="next"),
    path("<int:pk>/infusion/start/", views_infusion.infusion_start, name="infusion_start"),
    path("<int:pk>/infusion/rate/", views_infusion.infusion_rate, name="infusion_rate"),
    path("<int:pk>/infusion/end/", views_infusion.infusion_end, name="infusion_end"),
    path("<int:pk>/vitals/", views_infusion.vitals_add, name="vitals_add"),
    path("<int:pk>/reactions/", views_signoff.reaction_add, name="reaction_add"),
    path("<int:pk>/sign/", views_signoff.sign, name="sign"),
    path("<int:pk>/addenda/", views_signoff.addendum_add, name="addendum_add"),
    path("<int:pk>/outcomes/", views_signoff.outcome_add, name="outcome_add"),
]
