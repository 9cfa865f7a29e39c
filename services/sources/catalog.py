"""The data sources: added by admins (page or `python -m services.cli add-source`), or
defined in the secrets file as `[connections.NAME]` (Streamlit's `st.connection` convention).

A source's URL is stored without its password; the password is sealed (`sealing`) and never
leaves this package: views carry `has_password`, not the password.
"""

import logging
import re
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, SecretStr
from sqlalchemy import func, select
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, IntegrityError
from sqlalchemy.orm import Session

from services.access import audit
from services.access.permissions import require
from services.access.users import UserView
from services.errors import Conflict, InvalidInput, NotFound, SourceUnavailable
from services.settings import secrets_connections
from services.sources.sealing import seal, unseal
from services.store.db import lock_for_transaction, session_scope
from services.store.models import DataSource, LiveTable, utcnow

log = logging.getLogger(__name__)

ADMIN = "admin"
SECRETS = "secrets"
SECRETS_AUTHOR = "secrets file"
DRIVER = "postgresql+psycopg"
POSTGRES_NAMES = {"postgres", "postgresql", "postgresql+psycopg", "postgresql+psycopg2"}
DEFAULT_PORT = 5432
_SCHEMA = re.compile(r"^[^\s\"]{1,63}$")

MSG_NAME = "Give the data source a name (at most 200 characters)."
MSG_URL = ("That database address cannot be read. Write it like "
           "postgresql://user@host:5432/database, or fill in host, database and user instead.")
MSG_DIALECT = "Only PostgreSQL databases can be connected for now."
MSG_PARTS = "Fill in the host, the database and the database user."
MSG_SCHEMAS = ("Name the schemas that may be read, separated by commas (for example: public). "
               "A schema name has no spaces or quotes.")


class SourceInput(BaseModel):
    """A source as an admin gives it: checked, with the password kept apart from the URL."""

    model_config = ConfigDict(frozen=True)

    name: str
    url: str  # without the password
    password: SecretStr
    schemas: list[str]

    @classmethod
    def parse(cls, *, name: str, url: str = "", host: str = "", port: int | str = "",
              database: str = "", username: str = "", password: str = "",
              schemas: str | list[str] = "public") -> "SourceInput":
        name = name.strip()
        if not name or len(name) > 200:
            raise InvalidInput(MSG_NAME)
        address = _address(url.strip(), host=host.strip(), port=port, database=database.strip(),
                           username=username.strip())
        given = password or address.password or ""
        return cls(name=name, url=address.set(password=None).render_as_string(),
                   password=SecretStr(str(given)), schemas=_schemas(schemas))

    @property
    def address(self) -> URL:
        return make_url(self.url)


class SourceView(BaseModel):
    """A source as people see it: never its password."""

    model_config = ConfigDict(frozen=True)

    id: int
    name: str
    url: str
    schemas: list[str]
    origin: str
    has_password: bool
    created_by: str
    created_at: datetime
    updated_at: datetime

    @property
    def address(self) -> URL:
        return make_url(self.url)

    @property
    def where(self) -> str:
        """Where it lives, in words: database on host:port as user."""
        address = self.address
        return (f"{address.database} on {address.host}:{address.port or DEFAULT_PORT} "
                f"as {address.username}")


def _address(url: str, *, host: str, port: int | str, database: str, username: str) -> URL:
    if url:
        try:
            address = make_url(url)
        except (ArgumentError, ValueError) as error:
            raise InvalidInput(MSG_URL) from error
    else:
        try:
            number = int(port) if str(port).strip() else DEFAULT_PORT
        except ValueError as error:
            raise InvalidInput("The port is a number, for example 5432.") from error
        address = URL.create(DRIVER, username=username or None, host=host or None,
                             port=number, database=database or None)
    if address.drivername not in POSTGRES_NAMES:
        raise InvalidInput(MSG_DIALECT)
    if not (address.host and address.database and address.username):
        raise InvalidInput(MSG_PARTS)
    return address.set(drivername=DRIVER)


def _schemas(schemas: str | list[str]) -> list[str]:
    names = schemas.split(",") if isinstance(schemas, str) else list(schemas)
    cleaned = list(dict.fromkeys(str(n).strip() for n in names if str(n).strip()))
    if not cleaned or not all(_SCHEMA.match(n) for n in cleaned):
        raise InvalidInput(MSG_SCHEMAS)
    return cleaned


def _view(row: DataSource) -> SourceView:
    return SourceView(id=row.id, name=row.name, url=row.url, schemas=list(row.schemas or []),
                      origin=row.origin, has_password=bool(row.password_sealed),
                      created_by=row.created_by, created_at=row.created_at,
                      updated_at=row.updated_at)


def add_source(actor: UserView, new: SourceInput) -> SourceView:
    require(actor.role, "manage_sources")
    row = DataSource(name=new.name, url=new.url, schemas=new.schemas, origin=ADMIN,
                     password_sealed=seal(new.password.get_secret_value()),
                     created_by=actor.username)
    try:
        with session_scope(write=True) as session:
            if session.scalar(select(DataSource.id).where(DataSource.name == new.name)):
                raise Conflict(f"There is already a data source called “{new.name}”.")
            session.add(row)
            session.flush()
            # the URL has no password; the audit says where, never how to get in
            audit.record(session, actor=actor.username, action="source_added",
                         target=f"{row.id}: {row.name}", detail=_view(row).where)
    except IntegrityError as error:  # another server added the same name meanwhile
        raise Conflict(f"There is already a data source called “{new.name}”.") from error
    return _view(row)


# One lock per source (PostgreSQL, across servers): its removal and a live dataset being
# added on it take turns, so a removal never leaves a live dataset reading from nowhere.
SOURCE_LOCK = 0x5244_5372 << 32  # "RDSr", then the source's id


def hold_source(session: Session, source_id: int) -> None:
    """Until `session`'s transaction ends, no one else removes the source or adds a live
    dataset on it (they wait)."""
    lock_for_transaction(session, SOURCE_LOCK + source_id)


def remove_source(actor: UserView, source_id: int) -> None:
    require(actor.role, "manage_sources")
    with session_scope(write=True) as session:
        hold_source(session, source_id)  # a live dataset being added is counted below
        row = session.get(DataSource, source_id)
        if row is None:
            raise NotFound("That data source does not exist any more.")
        if row.origin == SECRETS:
            raise InvalidInput(f"“{row.name}” is defined in the secrets file: remove it there "
                               "and restart Research Desk.")
        in_use = session.scalar(select(func.count()).select_from(LiveTable)
                                .where(LiveTable.source_id == source_id)) or 0
        if in_use:
            which = ("1 live dataset reads" if in_use == 1
                     else f"{in_use:,} live datasets read")
            raise InvalidInput(f"{which} from “{row.name}”: delete them on the Datasets page "
                               "first (a snapshot keeps a copy of the rows).")
        audit.record(session, actor=actor.username, action="source_removed",
                     target=f"{row.id}: {row.name}")
        session.delete(row)


def list_sources(actor: UserView) -> list[SourceView]:
    require(actor.role, "use_sources")
    sync_from_secrets()
    with session_scope() as session:
        rows = session.scalars(select(DataSource).order_by(DataSource.name)).all()
        return [_view(row) for row in rows]


def get_source(actor: UserView, source_id: int) -> SourceView:
    require(actor.role, "use_sources")
    sync_from_secrets()
    with session_scope() as session:
        row = session.get(DataSource, source_id)
        if row is None:
            raise NotFound("That data source does not exist any more.")
        return _view(row)


def source_for_reading(source_id: int) -> SourceView:
    """The source a live dataset reads from, with no role check: whoever may see the dataset
    may read it (services.data.live_datasets checks that first), as with an uploaded file."""
    sync_from_secrets()
    with session_scope() as session:
        row = session.get(DataSource, source_id)
        if row is None:
            raise NotFound("The data source this dataset reads from was removed; an admin "
                           "can add it again on the Admin page.")
        return _view(row)


def full_address(source: SourceView | SourceInput) -> URL:
    """The URL with its password, for the door only (never shown, never logged)."""
    if isinstance(source, SourceInput):
        return source.address.set(password=source.password.get_secret_value() or None)
    with session_scope() as session:
        row = session.get(DataSource, source.id)
        if row is None:
            raise NotFound("That data source does not exist any more.")
        sealed = row.password_sealed
    return source.address.set(password=unseal(sealed) or None)


def _from_secrets(name: str, table: dict[str, Any]) -> SourceInput:
    """A `[connections.NAME]` table as st.connection reads it: `url`, or its parts."""
    dialect = str(table.get("dialect", "postgresql"))
    driver = table.get("driver")
    url = str(table.get("url", ""))
    if not url and (table.get("host") or table.get("database")):
        url = URL.create(f"{dialect}+{driver}" if driver else dialect,
                         username=table.get("username"), host=table.get("host"),
                         port=table.get("port"), database=table.get("database"),
                         ).render_as_string()
    return SourceInput.parse(name=name, url=url, password=str(table.get("password", "") or ""),
                             schemas=table.get("schemas", "public"))


def sync_from_secrets() -> None:
    """Bring the secrets file's `[connections.NAME]` into the sources: the file is the truth
    for them (added, changed, and removed with it). A table that cannot be used is logged
    by name only (its values may hold a password)."""
    wanted: dict[str, SourceInput] = {}
    for name, table in secrets_connections().items():
        try:
            wanted[name] = _from_secrets(name, table)
        except InvalidInput as error:
            log.warning("a connection in the secrets file is not used as a data source",
                        extra={"connection": name, "why": str(error)})
    if not wanted:
        with session_scope() as session:  # most installations: nothing to write, no lock
            if session.scalar(select(DataSource.id).where(DataSource.origin == SECRETS)) is None:
                return
    try:
        with session_scope(write=True) as session:
            rows = {row.name: row for row in session.scalars(select(DataSource)).all()}
            for name, row in rows.items():
                if row.origin == SECRETS and name not in wanted:
                    session.delete(row)
            for name, new in wanted.items():
                _bring(session, rows.get(name), new)
    except IntegrityError:  # another server brought the same ones in meanwhile
        return


def _bring(session: Any, row: DataSource | None, new: SourceInput) -> None:  # noqa: ANN401
    password = new.password.get_secret_value()
    if row is None:
        session.add(DataSource(name=new.name, url=new.url, schemas=new.schemas, origin=SECRETS,
                               password_sealed=seal(password), created_by=SECRETS_AUTHOR))
        return
    if row.origin != SECRETS:
        log.warning("a connection in the secrets file has the name of a source added by an "
                    "admin; the admin's is kept", extra={"connection": new.name})
        return
    same_password = unseal_or_empty(row.password_sealed) == password
    if row.url == new.url and list(row.schemas or []) == new.schemas and same_password:
        return
    row.url, row.schemas, row.updated_at = new.url, new.schemas, utcnow()
    row.password_sealed = seal(password)


def unseal_or_empty(sealed: str) -> str:
    """The password, or "" when the key changed (the secrets file then seals it anew)."""
    try:
        return unseal(sealed)
    except SourceUnavailable:
        return ""
