"""Errors caused by what a user gave us: a file, a parameter, a name.

Each carries one line that names the item, the field and the value, so the
command line can print it as it is and an API can return it as a 4xx body.
"""


class UserError(Exception):
    """Bad input from outside; the message is fit to show the user as it is."""


class ScenarioError(UserError):
    """A cluster scenario that cannot be read or does not hold together."""
