"""How the app's PostgreSQL connections are set up (infusion_site/settings.py)."""

import pytest
from django.db import connection


@pytest.mark.django_db
def test_postgresql_connections_do_not_compile_queries_just_in_time():
    if connection.vendor != "postgresql":
        # JIT is PostgreSQL's; SQLite would refuse libpq's "options" as a connection argument.
        assert "options" not in connection.settings_dict.get("OPTIONS", {})
        return
    # The board's nurse-row query at agency size spent 1.1 s of 1.14 s in JIT compilation (issue 15).
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
