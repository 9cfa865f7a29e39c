"""The cleaning recipe being built on the Dataset page: fixes and manual steps, in order.

The recipe lives in session state as JSON-ready dicts, keyed per dataset.
"""

from typing import Any

import streamlit as st
from pydantic import TypeAdapter

from components.text import escape_markdown
from services.cleaning import describe_step
from services.dataset_models import Step

_STEP = TypeAdapter(Step)

MANUAL_STEPS = {
    "Fill missing values": "impute",
    "Remove rows with missing values": "drop_missing",
    "Mark missing values in a new column": "flag_missing",
    "Remove repeated rows": "drop_duplicates",
    "Remove spaces at start and end": "trim",
    "Change letter case": "normalise_case",
    "Turn text into numbers": "parse_number",
    "Turn text into dates": "parse_date",
    "Change a column's type": "cast",
    "Remove columns": "drop_columns",
    "Rename a column": "rename_column",
    "Keep only some rows": "filter_rows",
    "Treat as a category": "convert_to_category",
}


def _key(dataset_id: int) -> str:
    return f"dataset_recipe_{dataset_id}"


def steps(dataset_id: int) -> list[Any]:
    return [_STEP.validate_python(s) for s in st.session_state.get(_key(dataset_id), [])]


def add(dataset_id: int, step: Any) -> None:
    current = st.session_state.setdefault(_key(dataset_id), [])
    current.append(_STEP.dump_python(step, mode="json"))


def clear(dataset_id: int) -> None:
    st.session_state[_key(dataset_id)] = []


def show_list(dataset_id: int) -> None:
    current = steps(dataset_id)
    if not current:
        st.info(
            "The recipe is empty. Add a fix from the quality report, or a step below.",
            icon=":material/list:",
        )
        return
    for index, step in enumerate(current):
        text_column, button_column = st.columns([6, 1])
        text_column.markdown(f"**{index + 1}.** {escape_markdown(describe_step(step))}")
        if button_column.button(
            "Remove",
            key=f"dataset_recipe_remove_{dataset_id}_{index}",
            help="Take this step out of the recipe.",
        ):
            del st.session_state[_key(dataset_id)][index]
            st.rerun()


def manual_step_form(dataset_id: int, columns: list[str]) -> None:
    """A small form that builds one step of the chosen kind."""
    label = st.selectbox(
        "Add a step",
        list(MANUAL_STEPS),
        key=f"dataset_step_kind_{dataset_id}",
        help="Each step changes the data in one way; steps run in order.",
    )
    kind = MANUAL_STEPS[label]
    with st.form(f"dataset_step_form_{dataset_id}_{kind}", border=True):
        fields = _fields(kind, columns)
        if st.form_submit_button("Add to recipe"):
            try:
                add(dataset_id, _STEP.validate_python({"kind": kind, **fields}))
            except ValueError:
                st.error("Fill in every part of the step before adding it.")
                return
            st.rerun()


def _fields(kind: str, columns: list[str]) -> dict[str, Any]:  # noqa: C901 - one form per kind
    if kind in ("drop_missing", "drop_duplicates"):
        chosen = st.multiselect("Columns to look at (leave empty for all)", columns)
        return {"columns": chosen or None}
    if kind in ("trim", "drop_columns"):
        return {"columns": st.multiselect("Columns", columns)}
    if kind == "normalise_case":
        case = st.radio(
            "Case",
            ["lower", "upper", "title"],
            horizontal=True,
            format_func={"lower": "lower case", "upper": "UPPER CASE", "title": "Title Case"}.get,
        )
        return {"columns": st.multiselect("Columns", columns), "case": case}
    column = st.selectbox("Column", columns)
    if kind == "impute":
        method = st.radio(
            "Fill with",
            ["median", "mean", "mode", "constant"],
            horizontal=True,
            format_func={
                "median": "the median",
                "mean": "the average",
                "mode": "the most common value",
                "constant": "a value I type",
            }.get,
        )
        value = st.text_input("Value (only for “a value I type”)")
        return {"column": column, "method": method, "value": value or None}
    if kind == "parse_number":
        decimal = st.radio(
            "Decimal mark",
            [".", ","],
            horizontal=True,
            format_func={".": "point (1,234.50)", ",": "comma (1.234,50)"}.get,
        )
        return {"column": column, "decimal": decimal}
    if kind == "parse_date":
        text = st.text_input(
            "Date format (optional)",
            placeholder="%d/%m/%Y",
            help="Leave empty to recognise common formats automatically.",
        )
        return {"column": column, "format": text or None}
    if kind == "cast":
        to = st.selectbox(
            "New type", ["number", "whole number", "text", "date", "date and time", "true/false"]
        )
        return {"column": column, "to": to}
    if kind == "rename_column":
        return {"column": column, "new_name": st.text_input("New name")}
    if kind == "filter_rows":
        ops: dict[str, str] = {
            "=": "is",
            "!=": "is not",
            ">": "is more than",
            ">=": "is at least",
            "<": "is less than",
            "<=": "is at most",
            "contains": "contains",
            "not_contains": "does not contain",
            "is_missing": "is missing",
            "is_not_missing": "has a value",
        }
        op = st.selectbox("Keep rows where the column", list(ops), format_func=lambda o: ops[o])
        value = st.text_input("Value")
        return {"column": column, "op": op, "value": _number_or_text(value)}
    return {"column": column}


def _number_or_text(value: str) -> float | str | None:
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        return value
