"""What a database's refusal means, in one sentence for the person who asked.

Decided by the SQLSTATE code, never by copying the server's message (it may name things the
person should not see); a connection that fails with no code never reached a server.
"""

from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from services.errors import (
    QueryFailed,
    QueryTimeout,
    ResearchDeskError,
    SourceUnavailable,
    UnsafeQuery,
)

DEFAULT_PORT = 5432
# What libpq says when the server refuses a connection (it gives no SQLSTATE then), as codes.
_CONNECT_WORDS = (
    ("password authentication failed", "28P01"),
    ("permission denied for database", "42501 connect"),  # before: it names the database too
    ("no pg_hba.conf entry", "28000 pg_hba"),
    ("pg_hba.conf rejects", "28000 pg_hba"),
    ("role \"", "28P01"),  # role "x" does not exist: as for a wrong password, say no more
    ("database \"", "3D000"),  # database "x" does not exist
    ("starting up", "57P03"),
    ("shutting down", "57P03"),
    ("too many clients", "53300"),
)


def _where(address: URL) -> str:
    return f"{address.host}:{address.port or DEFAULT_PORT}"


def unreachable(address: URL) -> str:
    return (f"The database server at {_where(address)} cannot be reached. Check the host and "
            "port, and that the server accepts connections from this machine.")


def wrong_password(address: URL) -> str:
    return (f"The database refused the user name or password: check the user "
            f"“{address.username}” and its password.")


def not_allowed_from_here(address: URL) -> str:
    return (f"The database server at {_where(address)} does not let the user "
            f"“{address.username}” connect from this machine.")


def no_database(address: URL) -> str:
    return f"There is no database called “{address.database}” at {_where(address)}."


def no_permission(address: URL) -> str:
    return (f"The user “{address.username}” has no permission to connect to the database "
            f"“{address.database}”.")


def busy(address: URL) -> str:
    return (f"The database server at {_where(address)} is not taking connections right now "
            "(starting, stopping or full). Try again in a minute.")


def translate(error: DBAPIError, address: URL, *, timeout_s: float,
              connecting: bool = False) -> ResearchDeskError:
    """The error to raise for a refusal by a source's database (`connecting`: before any
    query ran, where "permission denied" means the database itself is out of bounds)."""
    code = getattr(error.orig, "sqlstate", None)
    message = str(error.orig or "")
    if code is None:  # libpq refused before a session existed: only its words say why
        code = next((c for words, c in _CONNECT_WORDS if words in message), None)
    if code is None:
        return SourceUnavailable(unreachable(address))
    if code == "28P01" or (code == "28000" and "pg_hba" not in message):
        return SourceUnavailable(wrong_password(address))
    if code.startswith("28000"):
        return SourceUnavailable(not_allowed_from_here(address))
    if code == "3D000":
        return SourceUnavailable(no_database(address))
    if code in ("57P03", "53300", "57P01", "57P02"):
        return SourceUnavailable(busy(address))
    if code == "57014":
        return QueryTimeout(f"The database stopped the query after {timeout_s:g} seconds, its "
                            "time limit. Ask for less (filter or group the rows) and try again.")
    if code == "25006":
        return UnsafeQuery("The database refused it: Research Desk only reads from data "
                           "sources, it never changes them.")
    if code == "42501 connect" or (code == "42501" and connecting):
        return SourceUnavailable(no_permission(address))
    if code == "42501":
        return QueryFailed(f"The user “{address.username}” has no permission to read this in "
                           f"the database “{address.database}”.")
    if code.startswith("08"):
        return SourceUnavailable(unreachable(address))
    # a query the database could not run: its first line says why (a column, a type)
    first = message.strip().splitlines()[0] if message.strip() else "no reason given"
    return QueryFailed(f"The database could not run this query: {first.rstrip('.')}.")
