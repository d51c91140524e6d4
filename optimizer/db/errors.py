"""Errors of the storage layer that a user can act on."""
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
