//! ro-router: a PostgreSQL primary and N streaming replicas behind `get_db()` / `get_db_ro()`.
