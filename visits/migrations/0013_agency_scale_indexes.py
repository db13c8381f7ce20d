# Indexes for the queries the agency-size pages and the notification sweep run (issue 15 item 4), each found by
# EXPLAIN ANALYZE on the bench's agency (`BENCH_EXPLAIN=1 make bench`) as a sequential scan over a large table.
#
# On PostgreSQL they are built CONCURRENTLY, so a production table of millions of rows stays writable while they
# build (and the migration cannot run in a transaction: atomic = False). SQLite has no such thing and needs none.

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class AddIndexConcurrentlyOnPostgres(AddIndexConcurrently):
    """CREATE INDEX CONCURRENTLY on PostgreSQL, a plain CREATE INDEX elsewhere."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        return migrations.AddIndex.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        return migrations.AddIndex.database_backwards(self, app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("visits", "0012_chart_row_voids")]

    operations = [
        # A patient's visits by date: the patient page's history, and the alert queue's count of the visits used
        # inside each prior authorization (a per-patient range instead of every visit of the agency).
        AddIndexConcurrentlyOnPostgres(
            model_name="visit",
            index=models.Index(fields=["patient", "planned_start"], name="visit_patient_start"),
        ),
        # Schedule changes of the last day (the sweep's "visit moved" notices) and hard-stop overrides of the last
        # week (the alert queue): by kind, then time.
        AddIndexConcurrentlyOnPostgres(
            model_name="visitevent",
            index=models.Index(fields=["kind", "at"], name="visitevent_kind_at"),
        ),
        # Flagged vital signs of the last hours on the alert queue.
        AddIndexConcurrentlyOnPostgres(
            model_name="vitalsigns",
            index=models.Index(fields=["taken_at"], name="vitalsigns_taken_at"),
        ),
        # Check-ins of the last days whose location was not verified (the alert queue's exception list).
        AddIndexConcurrentlyOnPostgres(
            model_name="visitverification",
            index=models.Index(fields=["checked_in_at"], name="verification_checked_in_at"),
        ),
        # Notifications given up on (the alert queue): a few rows among hundreds of thousands, so a partial index.
        AddIndexConcurrentlyOnPostgres(
            model_name="notification",
            index=models.Index(
                fields=["failed_at"], condition=models.Q(failed_at__isnull=False), name="notification_failed"
            ),
        ),
        # What the sweep may hand to a worker: the pending rows by when they are due, without the sent ones.
        AddIndexConcurrentlyOnPostgres(
            model_name="notification",
            index=models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(sent_at__isnull=True, failed_at__isnull=True, withdrawn_at__isnull=True),
                name="notification_pending_due",
            ),
        ),
    ]
