# Indexes for the alert queue and the incremental notification sweep at agency size (issue 15), built
# CONCURRENTLY on PostgreSQL like 0013 (so the migration cannot run in a transaction: atomic = False).

from importlib import import_module

from django.db import migrations, models

AddIndexConcurrentlyOnPostgres = import_module(
    "visits.migrations.0013_agency_scale_indexes"
).AddIndexConcurrentlyOnPostgres


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("visits", "0015_sweep_watermarks")]

    operations = [
        # Visits saved since the sweep's last run (the incremental sweep's "changed since").
        AddIndexConcurrentlyOnPostgres(
            model_name="visit",
            index=models.Index(fields=["updated_at"], name="visit_updated_at"),
        ),
        # The visits used inside each live prior authorization: the live visits of a patient by date, read from
        # the index alone.
        AddIndexConcurrentlyOnPostgres(
            model_name="visit",
            index=models.Index(
                fields=["patient", "planned_start"],
                condition=~models.Q(status__in=["cancelled", "missed"]),
                name="visit_patient_live_start",
            ),
        ),
    ]
