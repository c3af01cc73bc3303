"""Shared state in a database server (PostgreSQL), used when ASSISTANT_DATABASE_URL is set.

Unset, everything stays in SQLite files under data_dir (see the stores themselves).
"""
