from django.urls import path

from visits.chart import my_day, records, views
from visits.chart.checkin import views as checkin
from visits.chart.checklist import views as checklist
from visits.chart.infusion import views as infusion
from visits.chart.offline import views as offline
from visits.chart.signoff import views as signoff

app_name = "visits"

urlpatterns = [
    path("today/", my_day.my_day, name="today"),
    path("<int:pk>/", views.chart, name="chart"),
    path("<int:pk>/check-in/", checkin.check_in, name="check_in"),
    path("<int:pk>/check-out/", checkin.check_out, name="check_out"),
    path("<int:pk>/check-in/undo/", checkin.check_in_undo, name="check_in_undo"),
    path("<int:pk>/checklist/", checklist.checklist_save, name="checklist_save"),
    path("<int:pk>/checklist/override/", checklist.checklist_override, name="checklist_override"),
    path("<int:pk>/checklist/complete/", checklist.checklist_complete, name="checklist_complete"),
    path("<int:pk>/premedications/", checklist.premedication_add, name="premedication_add"),
    path("<int:pk>/vials/", checklist.vial_add, name="vial_add"),
    path("<int:pk>/vials/<int:vial_pk>/remove/", checklist.vial_remove, name="vial_remove"),
    path("<int:pk>/print/", records.print_record, name="print"),
    path("recall/", records.recall, name="recall"),
    path("<int:pk>/next/", infusion.whats_next, name="next"),
    path("<int:pk>/infusion/start/", infusion.infusion_start, name="infusion_start"),
    path("<int:pk>/infusion/rate/", infusion.infusion_rate, name="infusion_rate"),
    path("<int:pk>/infusion/end/", infusion.infusion_end, name="infusion_end"),
    path("<int:pk>/vitals/", infusion.vitals_add, name="vitals_add"),
    path("<int:pk>/assessments/", infusion.assessment_add, name="assessment_add"),
    path("<int:pk>/reactions/", signoff.reaction_add, name="reaction_add"),
    path("<int:pk>/sign/", signoff.sign, name="sign"),
    path("<int:pk>/addenda/", signoff.addendum_add, name="addendum_add"),
    path("<int:pk>/outcomes/", signoff.outcome_add, name="outcome_add"),
    path("<int:pk>/outbox/discard/", offline.discard, name="outbox_discard"),
]
