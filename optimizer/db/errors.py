"""Errors of the storage layer that a user can act on, and the database being down."""
from sqlalchemy import exc as sa_exc

from optimizer.models.errors import UserError


class DatabaseError(UserError):
    """The database cannot be reached or is not one this version can use."""


class NotFound(UserError):
    """No stored item has the uuid or name asked for."""


class AlreadyExists(UserError):
    """A stored item already has this name."""


class ConcurrentUpdate(UserError):
    """Someone else changed the item between our read and our write."""


class InvalidQuery(UserError):
    """A list request with an unknown filter, sort key or marker, or a bad limit."""


class InvalidPlan(UserError):
    """An action plan whose actions do not hold together."""


class InvalidValue(UserError):
    """A field value the storage layer cannot accept, e.g. an unknown audit type."""


class StillRunning(UserError):
    """An item cannot change because something that depends on it is still running."""


# Errors meaning "the database cannot be reached right now": the server is down
# or restarting, the network dropped, the pool timed out waiting for a connection.
# Trying again later may work; the request or command itself is not at fault.
UNREACHABLE: tuple[type[Exception], ...] = (
    sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.DisconnectionError,
    sa_exc.TimeoutError)


def remember_url(context) -> None:
    """``handle_error`` listener: the failing engine's URL (password masked) on the error."""
    if context.sqlalchemy_exception is not None and context.engine is not None:
        context.sqlalchemy_exception.database_url = context.engine.url.render_as_string(
            hide_password=True)


def unreachable_cause(exc: BaseException | None) -> Exception | None:
    """The error in ``exc``'s chain (itself, its cause or context) saying the database is down."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, UNREACHABLE) and _outage(exc):
            return exc
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return None


def _outage(error: Exception) -> bool:
    # A SQLite file that cannot be opened is a wrong path, not an outage; only a
    # lock held too long by another process is worth retrying.
    if str(getattr(error, "database_url", "")).startswith("sqlite"):
        return "locked" in str(error)
    return True


def describe_unreachable(error: Exception) -> str:
    """One line: which database cannot be reached, and what the driver said."""
    url = getattr(error, "database_url", None)
    original = getattr(error, "orig", None) or error
    lines = str(original).strip().splitlines()
    reason = lines[0] if lines else type(original).__name__
    where = f"the database {url}" if url else "the database"
    return f"{where} is unreachable ({reason}); try again once it is back"
