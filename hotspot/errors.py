"""The exception for a user's mistake: reported as one line, exit status 2."""

__all__ = ["UserError"]


class UserError(Exception):
    """Bad input from a user (a file, an argument, a name): one clear line, no traceback."""
