"""Errors every slice raises; only the API layer turns them into HTTP answers.

Each error carries a machine-readable ``code`` and a human ``message``. The kind of
error (its class) decides the HTTP status; the code says precisely what went wrong.
Messages never contain a phone number, a saved name or a request body.
"""

from __future__ import annotations


class MayknowError(Exception):
    """Base class: a request that cannot be carried out as asked."""

    def __init__(self, code: str, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field


class InvalidInput(MayknowError):
    """The request is well-formed but a value in it is not acceptable."""


class NotAuthenticated(MayknowError):
    """No valid session."""


class Forbidden(MayknowError):
    """Authenticated, but not allowed (missing consent, not an operator...)."""


class NotFound(MayknowError):
    """The thing does not exist, or the caller may not know that it does."""


class Conflict(MayknowError):
    """The request contradicts the current state."""


class TooLarge(MayknowError):
    """The request carries more than the service accepts."""


class RateLimited(MayknowError):
    """Too many requests; try again after ``retry_after`` seconds."""

    def __init__(self, code: str, message: str, *, retry_after: int) -> None:
        super().__init__(code, message)
        self.retry_after = max(1, retry_after)
