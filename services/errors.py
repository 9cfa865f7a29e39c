"""One error hierarchy for the whole product.

Every error carries a sentence a non-programmer can read (`str(error)`); pages show it
as-is with `st.error`. Anything that is *not* a `ResearchDeskError` is unexpected and is
shown as a short apology with a reference id (see `services.logs.report_unexpected`).
"""


class ResearchDeskError(Exception):
    """Base class: the message is written for the person using the app."""


class InvalidInput(ResearchDeskError):
    """The user gave something we cannot use; nothing was changed."""


class TooLarge(InvalidInput):
    """An upload or request is over the configured size limit; nothing was kept."""


class NotFound(ResearchDeskError):
    """The thing asked for does not exist (or is not visible to this user)."""


class PermissionDenied(ResearchDeskError):
    """The user's role or ownership does not allow this."""


class AuthenticationFailed(ResearchDeskError):
    """Wrong username/password, disabled account, or too many attempts."""


class Conflict(ResearchDeskError):
    """The change clashes with existing data (duplicate name, last admin, ...)."""


class UnsafeQuery(ResearchDeskError):
    """SQL refused by the guard: not a single read-only query over allowed tables."""


class QueryTimeout(ResearchDeskError):
    """A sandboxed query ran past its time limit and was stopped."""


class QueryFailed(ResearchDeskError):
    """A sandboxed query was valid but DuckDB could not run it."""


class QueryTooBig(QueryFailed):
    """A sandboxed query needed more memory, or gave a larger answer, than allowed."""


class BudgetExceeded(ResearchDeskError):
    """The user's monthly Claude budget is used up."""


class ClaudeUnavailable(ResearchDeskError):
    """Claude is not configured, unreachable or kept failing after retries."""


class StorageUnavailable(ResearchDeskError):
    """The data directory or metadata store cannot be opened."""


class SourceUnavailable(ResearchDeskError):
    """A data source (an outside database) cannot be reached or refused us; nothing changed."""
