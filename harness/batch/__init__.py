"""Batch evaluation of a whole call for artifacts: the submissions list, the ledger of every
evaluation attempt (SQLAlchemy + Alembic), the scheduler and the Dask cluster backend."""
