"""The datasets picked on the Ask page, as tables with short safe SQL names (and profiles).

A table name is derived from the dataset's name — the part before any colon, first words
only — made safe by `services.data.sql_names` and deduplicated ("sales", "sales_2"), so Claude and
the SQL tab use the same readable names. The page shows which name stands for which dataset.
"""

from pathlib import Path

import pandas as pd
import streamlit as st

from services.access.users import UserView
from services.claude.ask import AskTable
from services.data.dataset_models import DatasetProfile
from services.data.profile import profile_dataset
from services.data.sql_names import derive_sql_names
from services.store import datasets
from services.store.datasets import DatasetView

NAME_WORDS = 3


def short_name(dataset_name: str) -> str:
    head = dataset_name.split(":", 1)[0]
    return " ".join(head.split()[:NAME_WORDS]) or "dataset"


@st.cache_data(show_spinner="Reading the dataset's columns…", max_entries=64)
def _profile(dataset_id: int, version: int, parquet_path: str) -> DatasetProfile:
    """Cached per dataset version (versions are immutable files)."""
    return profile_dataset(Path(parquet_path))


def build(user: UserView, picked: list[DatasetView]) -> list[AskTable]:
    """One AskTable per picked dataset, in the order picked."""
    names = derive_sql_names([short_name(d.name) for d in picked])
    tables: list[AskTable] = []
    for dataset, sql_name in zip(picked, names, strict=True):
        version = datasets.get_version(user, dataset.id)
        profile = _profile(dataset.id, version.version, str(version.parquet_path))
        tables.append(AskTable(sql_name=sql_name, display_name=dataset.name,
                               parquet_path=version.parquet_path, profile=profile,
                               dataset_id=dataset.id))
    return tables


def show_names(tables: list[AskTable]) -> None:
    """Which SQL table name stands for which dataset, and its columns."""
    rows = pd.DataFrame({
        "Table name in SQL": [t.sql_name for t in tables],
        "Dataset": [t.display_name for t in tables],
        "Columns (name in SQL)": [
            ", ".join(c.sql_name for c in t.profile.columns) if t.profile else ""
            for t in tables],
    })
    st.dataframe(rows, hide_index=True, width="stretch")
