""""Test connection": connect as the source would, in a read-only transaction that is rolled
back, and say in one sentence what is wrong, or what can be read, and warn when the database
user could change data (Research Desk never writes; the user's rights are the outer wall)."""

from pydantic import BaseModel, ConfigDict
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from services.access.permissions import require
from services.access.users import UserView
from services.settings import get_settings
from services.sources import problems
from services.sources.catalog import SourceInput, SourceView, full_address
from services.sources.door import engine_for

_SCHEMAS = text("""
    SELECT n.nspname AS name, has_schema_privilege(n.oid, 'USAGE') AS can_use,
           has_schema_privilege(n.oid, 'CREATE') AS can_create
    FROM pg_namespace n WHERE n.nspname = ANY(:schemas)
""")
_READABLE = text("""
    SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = ANY(:schemas) AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
      AND has_schema_privilege(n.oid, 'USAGE') AND has_table_privilege(c.oid, 'SELECT')
""")
_WRITES = text("""
    SELECT r.rolsuper OR has_database_privilege(current_database(), 'CREATE')
           OR EXISTS (
               SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE n.nspname = ANY(:schemas) AND c.relkind IN ('r', 'p')
                 AND has_table_privilege(c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE'))
    FROM pg_roles r WHERE r.rolname = current_user
""")


class ConnectionCheck(BaseModel):
    model_config = ConfigDict(frozen=True)

    ok: bool
    message: str
    warning: str = ""


def can_write_warning(username: str) -> str:
    return (f"The user “{username}” can change data in this database. Research Desk only "
            "reads, but make a read-only user for it (GRANT SELECT only), so the database "
            "itself refuses any change.")


def check_connection(actor: UserView, source: SourceInput | SourceView) -> ConnectionCheck:
    """Connect, look, roll back: nothing is stored and nothing in the database changes."""
    require(actor.role, "manage_sources")
    address = full_address(source)
    engine = engine_for(address, pooled=False)
    schemas = list(source.schemas)
    timeout_s = get_settings().source_statement_timeout_s
    try:
        try:
            connection = engine.connect()
        except DBAPIError as error:
            problem = problems.translate(error, address, timeout_s=timeout_s, connecting=True)
            return ConnectionCheck(ok=False, message=str(problem))
        with connection:
            connection.exec_driver_sql("SET TRANSACTION READ ONLY")
            found = {r.name: r for r in connection.execute(_SCHEMAS, {"schemas": schemas})}
            readable = int(connection.execute(_READABLE, {"schemas": schemas}).scalar_one())
            writes = bool(connection.execute(_WRITES, {"schemas": schemas}).scalar())
            connection.rollback()
    except DBAPIError as error:
        return ConnectionCheck(ok=False, message=str(
            problems.translate(error, address, timeout_s=timeout_s)))
    finally:
        engine.dispose()
    user, database = address.username, address.database
    if missing := [s for s in schemas if s not in found]:
        return ConnectionCheck(ok=False, message=(
            f"There is no schema called “{missing[0]}” in the database “{database}”."))
    if closed := [s for s in schemas if not found[s].can_use]:
        return ConnectionCheck(ok=False, message=(
            f"The user “{user}” has no permission to read the schema “{closed[0]}”."))
    writes = writes or any(found[s].can_create for s in schemas)
    return ConnectionCheck(
        ok=True,
        message=(f"Connected to “{database}” as “{user}”: {readable:,} "
                 f"{'table or view' if readable == 1 else 'tables and views'} can be read in "
                 f"{', '.join(schemas)}."),
        warning=can_write_warning(str(user)) if writes else "")
