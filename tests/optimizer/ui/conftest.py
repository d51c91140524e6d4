"""The API's fixtures (a fresh database, a small simulated cloud), shared with the console."""
from tests.optimizer.api.conftest import client, ctx, dispatcher, secured  # noqa: F401
