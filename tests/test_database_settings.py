"""How the app's PostgreSQL connections are set up (infusion_site/settings.py)."""

import pytest
from django.db import connection


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="JIT is a PostgreSQL setting")
def test_postgresql_connections_do_not_compile_queries_just_in_time():
    # The board's nurse-row query at agency size spent 1.1 s of 1.14 s in JIT compilation (issue 15).
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
