"""Fail loudly (exit 1, one line each) when the scaled mode's services cannot be reached.

A missing service must fail the test run, not skip the scaled half of it.
"""

from __future__ import annotations

import os
import sys

import environ
import psycopg
import redis


def main() -> int:
    problems = []
    db = environ.Env.db_url_config(os.environ["DATABASE_URL"])
    try:
        psycopg.connect(
            host=db["HOST"] or "127.0.0.1",
            port=int(db["PORT"] or 5432),
            user=db["USER"] or None,
            password=db["PASSWORD"] or None,
            dbname="postgres",
            connect_timeout=5,
        ).close()
    except psycopg.Error as exc:
        problems.append(f"PostgreSQL at {db['HOST']}:{db['PORT']} is not reachable: {exc}")
    try:
        redis.Redis.from_url(os.environ["REDIS_URL"], socket_connect_timeout=5).ping()
    except redis.RedisError as exc:
        problems.append(f"Redis is not reachable: {exc}")
    for problem in problems:
        print(f"check-services: {problem}", file=sys.stderr)
    if problems:
        print("Start them (.ci/run does) and try again.", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
