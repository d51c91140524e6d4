"""Alembic migrations of the optimizer database; run through optimizer.db.migrate."""
