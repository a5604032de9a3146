from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import connection
from django.test import Client


@pytest.fixture
def row_writes(transactional_db) -> Iterator[Callable[[int], int]]:
    """Counts UPDATEs of job_runs rows with a database trigger (seen from any process)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("CREATE TABLE job_run_writes (job_id bigint)")
            cursor.execute(
                "CREATE FUNCTION count_job_run_write() RETURNS trigger AS $$ "
                "BEGIN INSERT INTO job_run_writes VALUES (NEW.id); RETURN NEW; END $$ "
                "LANGUAGE plpgsql"
            )
            cursor.execute(
                "CREATE TRIGGER job_run_writes AFTER UPDATE ON job_runs "
                "FOR EACH ROW EXECUTE FUNCTION count_job_run_write()"
            )
        else:
            cursor.execute("CREATE TABLE job_run_writes (job_id integer)")
            cursor.execute(
                "CREATE TRIGGER job_run_writes AFTER UPDATE ON job_runs "
                "BEGIN INSERT INTO job_run_writes VALUES (NEW.id); END"
            )

    def count(job_id: int) -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM job_run_writes WHERE job_id = %s", [job_id])
            return int(cursor.fetchone()[0])

    yield count
    with connection.cursor() as cursor:
        cursor.execute(
            "DROP TRIGGER IF EXISTS job_run_writes ON job_runs"
            if connection.vendor == "postgresql"
            else "DROP TRIGGER IF EXISTS job_run_writes"
        )
        cursor.execute("DROP TABLE IF EXISTS job_run_writes")
        if connection.vendor == "postgresql":
            cursor.execute("DROP FUNCTION IF EXISTS count_job_run_write()")


@pytest.fixture
def user(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user(username="alice", password="s3cret-pass")


@pytest.fixture
def api(user: Any) -> Client:
    """A logged-in client that checks CSRF like a browser's server would."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.get("/")  # sets the csrftoken cookie
    return client


@pytest.fixture
def web(user: Any) -> Client:
    """A logged-in client (no CSRF checks: the test client's default)."""
    client = Client()
    client.force_login(user)
    return client
