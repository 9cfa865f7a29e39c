"""The live-dataset side of the notebook export: where each live table is, and the cells
that connect to its database.

A live dataset's rows stay in their database, so the notebook ships no file for it: it asks
the reader for the database's address (from the environment, or typed in) and runs the
chart's grouping there, in the database's own SQL. The stored password never goes into a
notebook; the address people may see (user, host, port, database, no password) is offered
as the default only to those who may use data sources.
"""

from pydantic import BaseModel
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from services.access.permissions import can
from services.access.users import UserView
from services.charts import live
from services.data import live_datasets
from services.data.sql_names import quote_ident
from services.errors import ResearchDeskError
from services.research.insights import InsightCard

URL_VARIABLE = "RESEARCH_DESK_SOURCE_URL"
URL_EXAMPLE = "postgresql://user@host:5432/database"

READ_FROM = '''

def read_from(engine, sql):
    """Run one query in the database, in a read-only transaction, and return its rows."""
    from decimal import Decimal

    with engine.connect() as connection, connection.begin():
        connection.exec_driver_sql("SET TRANSACTION READ ONLY")
        # a % in the SQL is text, not a placeholder: the driver turns %% back into %
        rows = connection.exec_driver_sql(sql.replace("%", "%%"), {})
        frame = pd.DataFrame(rows.fetchall(), columns=list(rows.keys()))
    for name in frame.columns:  # exact numbers (a mean of whole numbers) as plain floats
        if frame[name].map(lambda v: isinstance(v, Decimal)).any():
            frame[name] = pd.to_numeric(frame[name].map(
                lambda v: float(v) if isinstance(v, Decimal) else v))
    return frame
'''


class LivePlace(BaseModel):
    """A live table the notebook reads in its database."""

    dataset_id: int
    name: str  # the dataset's name
    label: str  # “public.penguins in warehouse”
    schema_name: str
    table_name: str
    relation: str  # the quoted schema.table the queries read
    dialect: str  # sqlglot's name for the database's SQL
    columns: dict[str, tuple[str, str]]  # name -> (name in the table, DuckDB type)
    source_name: str
    engine: str  # the notebook variable holding the connection
    default_url: str  # the address without a password, or "" when not for this reader


def _public_address(url: str) -> str:
    """User, host, port and database only: no password, no query options."""
    try:
        given = make_url(url)
    except ArgumentError:
        return ""
    return URL.create(given.drivername, username=given.username, host=given.host,
                      port=given.port, database=given.database).render_as_string()


def _engine_name(source_name: str, used: dict[str, str]) -> str:
    stem = "db_" + ("".join(c if c.isalnum() else "_" for c in source_name.lower())
                    .strip("_")[:30] or "source")
    name = stem if stem.isidentifier() else "db_source"
    while name in used.values():
        name += "_"
    return name


def plan_live(actor: UserView, cards: list[InsightCard]) -> dict[int, LivePlace]:
    """Each live dataset the item's insights use, with its columns read from its database.
    One that cannot be read now (its source down, the table gone) is left out: its insights
    are then drawn from the numbers saved with them."""
    places: dict[int, LivePlace] = {}
    engines: dict[str, str] = {}  # source name -> notebook variable
    for card in cards:
        if card.live is None or card.dataset_id is None or card.dataset_id in places:
            continue
        try:
            target = live_datasets.live_target(actor, card.dataset_id)
            if target is None:
                continue
            engine = target.engine
            columns = live.table_columns(engine, target.schema_name, target.table_name)
            dialect = live.DIALECTS[engine.dialect.name]
        except (ResearchDeskError, KeyError):
            continue
        source = target.source.name
        engines.setdefault(source, _engine_name(source, engines))
        places[card.dataset_id] = LivePlace(
            dataset_id=card.dataset_id, name=card.dataset_name or card.live.table_name,
            label=card.live.label, schema_name=target.schema_name,
            table_name=target.table_name,
            relation=f"{quote_ident(target.schema_name)}.{quote_ident(target.table_name)}",
            dialect=dialect, columns={n: (n, c.duck_type) for n, c in columns.items()},
            source_name=source, engine=engines[source],
            default_url=_public_address(target.source.url)
            if can(actor.role, "use_sources") else "")
    return places


def connect_code(place: LivePlace) -> str:
    """The cell that connects to one source's database, with an address the reader gives."""
    own = f"{URL_VARIABLE}_{place.engine[3:].upper()}"
    hint = place.default_url or URL_EXAMPLE
    ask = (f"Address of the database {place.source_name!r} (press Enter for {hint}): "
           if place.default_url else f"Address of the database {place.source_name!r} "
           f"(like {hint}): ")
    default = f" or {place.default_url!r}" if place.default_url else ""
    return (
        f"# Step 2: connect to the database {_one_line(place.source_name)!r}, where the "
        "live data of this item is.\n"
        "# Research Desk never writes a password into a notebook: give the address with your "
        "own account,\n"
        f"# in the environment ({own} or {URL_VARIABLE}) before starting Jupyter, or type "
        "it when asked.\n"
        "# You need: pip install sqlalchemy 'psycopg[binary]'\n"
        "import getpass\nimport os\n\n"
        "from sqlalchemy import create_engine\nfrom sqlalchemy.engine import make_url\n\n"
        f"address = os.environ.get({own!r}) or os.environ.get({URL_VARIABLE!r})\n"
        "if not address:\n"
        f"    address = input({ask!r}){default}\n"
        "    address = make_url(address)\n"
        "    if address.password is None and address.username:\n"
        "        secret = getpass.getpass(f'Password for {address.username} (Enter if none): ')\n"
        "        address = address.set(password=secret or None)\n"
        "address = make_url(address)\n"
        "if address.drivername in ('postgresql', 'postgres'):  # the psycopg 3 driver\n"
        "    address = address.set(drivername='postgresql+psycopg')\n"
        f"{place.engine} = create_engine(address)\n"
        f"read_from({place.engine}, 'SELECT 1 AS connected')"
    )


def _one_line(text: str) -> str:
    return " ".join(str(text).split())
