# The incremental notification sweep reads the check-in records saved since its last run (issue 15); built
# CONCURRENTLY on PostgreSQL like 0013 (so the migration cannot run in a transaction: atomic = False).

from importlib import import_module

from django.db import migrations, models

AddIndexConcurrentlyOnPostgres = import_module(
    "visits.migrations.0013_agency_scale_indexes"
).AddIndexConcurrentlyOnPostgres


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("visits", "0016_alert_indexes")]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="visitverification",
            index=models.Index(fields=["updated_at"], name="verification_updated_at"),
        ),
    ]
