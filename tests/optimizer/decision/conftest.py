"""The decision engine runs on both database backends, like the storage tests."""
from tests.optimizer.db.conftest import backend, db, module_database, new_url  # noqa: F401
