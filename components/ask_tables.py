"""The tables Ask uses, as the page shows them: which SQL name stands for which dataset.

Which datasets may be used, their names in SQL and their profiles are decided by
`services.claude.ask_tables`; this module only caches the profiles (per immutable dataset
version; a live table's columns are read afresh, as it may change) and draws the table
of names."""

from pathlib import Path

import pandas as pd
import streamlit as st

from components.tables import dataframe
from services.access.users import UserView
from services.claude import ask_tables
from services.claude.ask import AskTable
from services.data.dataset_models import DatasetProfile
from services.data.datasets import DatasetView
from services.data.profile import profile_dataset


@st.cache_data(show_spinner="Reading the dataset's columns…", max_entries=64)
def _profile(dataset_id: int, version: int, parquet_path: str) -> DatasetProfile:
    """Cached per dataset version (versions are immutable files)."""
    return profile_dataset(Path(parquet_path))


def cached_profile(dataset_id: int, version: int, parquet_path: Path) -> DatasetProfile:
    """The profile reader the Ask services are given (`ask_tables.ProfileReader`)."""
    return _profile(dataset_id, version, str(parquet_path))


def picker_label(dataset: DatasetView) -> str:
    """A dataset as the picker lists it; a live one says where it is read."""
    if dataset.live is None:
        return dataset.name
    return f"{dataset.name} (live: {dataset.live.label})"


def build(user: UserView, dataset_ids: list[int]) -> list[AskTable]:
    """The picked datasets as Ask tables, in the order picked."""
    return ask_tables.tables_for(user, dataset_ids, profile_of=cached_profile)


def show_names(tables: list[AskTable]) -> None:
    """Which SQL table name stands for which dataset, and its columns."""
    with st.expander("Table names used in queries", icon=":material/table:"):
        st.caption("Queries refer to each dataset by a short table name, and to columns by "
                   "the names below.")
        rows = pd.DataFrame({
            "Table name in SQL": [t.sql_name for t in tables],
            "Dataset": [t.display_name for t in tables],
            "Columns (name in SQL)": [", ".join(_column_names(t)) for t in tables],
        })
        dataframe(rows, hide_index=True, width="stretch")


def _column_names(table: AskTable) -> list[str]:
    if table.profile is not None:
        return [c.sql_name for c in table.profile.columns]
    return [c.sql_name for c in table.columns or []]
