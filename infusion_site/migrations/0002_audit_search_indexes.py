# Indexes for the privacy officer's audit trail search (/audit/, issue 15 item 4) on auditlog's LogEntry, which is
# written on every page that shows a patient and so is the largest table of all.
#
# The search filters on keys of the JSON column additional_data (infusion_site.audit writes them) and shows the
# newest first: each index is the filter's expression exactly as patients.audit_trail.selectors writes it, then
# (timestamp, id), so a page of 50 is read off the index instead of sorting every entry of a patient or a user.
#
# PostgreSQL only, built CONCURRENTLY so the table stays writable while they build (hence atomic = False). They are
# expression indexes on a third-party model, so raw SQL rather than model state; SQLite needs none.

from django.db import migrations

INDEXES = {
    # The entries about one patient: additional_data->>'patient_id'.
    "audit_patient_time": "((additional_data ->> 'patient_id')), \"timestamp\", id",
    # The entries of one user, as recorded at the time: additional_data->>'actor_username' ...
    "audit_actor_name_time": "((additional_data ->> 'actor_username')), \"timestamp\", id",
    # ... or by account.
    "audit_actor_time": 'actor_id, "timestamp", id',
    # A search by dates only: newest first within the range.
    "audit_time": '"timestamp", id',
}


def _run(schema_editor, statements):
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in statements:
        schema_editor.execute(statement)


def create_indexes(apps, schema_editor):
    _run(
        schema_editor,
        [
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON auditlog_logentry ({columns})"
            for name, columns in INDEXES.items()
        ],
    )


def drop_indexes(apps, schema_editor):
    _run(schema_editor, [f"DROP INDEX CONCURRENTLY IF EXISTS {name}" for name in INDEXES])


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("infusion_site", "0001_initial"),
        ("auditlog", "0017_add_actor_email"),
    ]

    operations = [migrations.RunPython(create_indexes, drop_indexes, elidable=False)]
