from django.contrib import admin

from patients import models


class DatedInline(admin.TabularInline):
    extra = 0


class WeightInline(DatedInline):
    model = models.WeightMeasurement
    readonly_fields = ["recorded_by", "recorded_at"]


class LabInline(DatedInline):
    model = models.LabResult
    readonly_fields = ["recorded_by", "recorded_at"]


class DiagnosisInline(DatedInline):
    model = models.Diagnosis


class AuthorizationInline(DatedInline):
    model = models.PriorAuthorization


class CareTeamInline(DatedInline):
    model = models.CareTeamMember
    autocomplete_fields = ["nurse"]


@admin.register(models.Patient)
class PatientAdmin(admin.ModelAdmin):
    list_display = ["mrn", "last_name", "first_name", "date_of_birth", "city", "team"]
    list_filter = ["team"]
    search_fields = ["mrn", "last_name", "first_name"]
    inlines = [DiagnosisInline, WeightInline, LabInline, AuthorizationInline, CareTeamInline]
    raw_id_fields = ["user"]


@admin.register(models.Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "region"]
    search_fields = ["name", "region"]
    autocomplete_fields = ["members"]


@admin.register(models.PortalInvitation)
class PortalInvitationAdmin(admin.ModelAdmin):
    list_display = ["patient", "created_at", "sent_at", "attempts", "last_error"]
    readonly_fields = ["patient", "email", "invited_by", "created_at", "sent_at", "attempts", "last_error"]
