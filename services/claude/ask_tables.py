"""Which tables Ask may use: the picked datasets this person can see, each under a short safe
SQL name, with its current version's file and profile — or, for a live dataset, where its
table lives and its columns (read from the database). All of one question's tables are
files, or live tables of one data source (`ask_live.one_place`).

A table name is derived from the dataset's name — the part before any colon, first words
only — made safe by `services.data.sql_names` and deduplicated ("sales", "sales_2"), so Claude
and the SQL tab use the same readable names. The caller's role (Ask's) and their access to
every dataset are checked first; a dataset they cannot see is refused, never skipped.
"""

from collections.abc import Callable, Sequence
from pathlib import Path

from services.access import caller_checks
from services.access.users import UserView
from services.claude import ask_live
from services.claude.ask import AskTable
from services.data import dataset_checks, datasets, live_datasets
from services.data.dataset_models import DatasetProfile
from services.data.live_datasets import LiveTarget
from services.data.profile import profile_dataset
from services.data.sql_names import derive_sql_names
from services.errors import InvalidInput, NotFound, PermissionDenied

NAME_WORDS = 3
MAX_TABLES = 20

ProfileReader = Callable[[int, int, Path], DatasetProfile]  # (dataset id, version, file)


def short_name(dataset_name: str) -> str:
    head = dataset_name.split(":", 1)[0]
    return " ".join(head.split()[:NAME_WORDS]) or "dataset"


def read_profile(dataset_id: int, version: int, parquet_path: Path) -> DatasetProfile:
    """The default profile reader (uncached; pages pass a cached one)."""
    return profile_dataset(parquet_path)


def tables_for(actor: UserView, dataset_ids: Sequence[int], *,
               profile_of: ProfileReader = read_profile) -> list[AskTable]:
    """One AskTable per picked dataset, in the order picked (the current version of each,
    or the live table). A mix of files and live tables is refused before any reading."""
    caller = caller_checks.require_page(actor, "ask")
    ids = list(dict.fromkeys(int(i) for i in dataset_ids))
    if not ids:
        raise InvalidInput("Choose at least one dataset to ask about.")
    if len(ids) > MAX_TABLES:
        raise InvalidInput(f"Ask can use at most {MAX_TABLES} datasets at once.")
    try:
        picked = [datasets.get_dataset(caller, i) for i in ids]
        targets = [live_datasets.live_target(caller, d.id) if d.is_live else None
                   for d in picked]
    except NotFound as error:
        raise PermissionDenied(dataset_checks.MSG_NOT_VISIBLE) from error
    ask_live.one_place(targets)
    names = derive_sql_names([short_name(d.name) for d in picked])
    return [_table(caller, dataset, target, sql_name, profile_of)
            for dataset, target, sql_name in zip(picked, targets, names, strict=True)]


def _table(caller: UserView, dataset: datasets.DatasetView, target: LiveTarget | None,
           sql_name: str, profile_of: ProfileReader) -> AskTable:
    if target is not None:
        return AskTable(sql_name=sql_name, display_name=dataset.name, dataset_id=dataset.id,
                        live=target, columns=ask_live.read_columns(target))
    try:
        version = datasets.get_version(caller, dataset.id)
    except NotFound as error:
        raise PermissionDenied(dataset_checks.MSG_NOT_VISIBLE) from error
    return AskTable(sql_name=sql_name, display_name=dataset.name,
                    parquet_path=version.parquet_path, dataset_id=dataset.id,
                    profile=profile_of(dataset.id, version.version, Path(version.parquet_path)))


def table_labels(tables: Sequence[AskTable]) -> dict[str, str]:
    """SQL table name → dataset name, as an answer's "How this was computed" lists them."""
    return {t.sql_name: t.display_name for t in tables}


def example_sql(tables: Sequence[AskTable]) -> str:
    """The query the SQL tab starts with: the first rows of the first table."""
    first = tables[0].sql_name if tables else "table"
    return f'SELECT *\nFROM "{first}"\nLIMIT 10'
