"""The cleaning recipe being built on the Dataset page: fixes and manual steps, in order.

The recipe lives in session state as JSON-ready dicts, keyed per dataset.
"""

from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st
from pydantic import TypeAdapter

from components import tables
from components.text import escape_markdown
from services.data import cleaning
from services.data.cleaning import describe_step, preview_steps
from services.data.column_kinds import CAST_TARGETS, is_number, is_text
from services.data.dataset_models import Recipe, Step, StepPreview

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
    st.session_state.pop(_confirm_key(dataset_id), None)


# --- trying steps out before they change anything ---------------------------------------

@st.cache_data(max_entries=16, show_spinner="Trying the steps out on the data…")
def _cached_preview(parquet_path: str, recipe_json: str) -> StepPreview:
    return preview_steps(Path(parquet_path), Recipe.model_validate_json(recipe_json).steps)


def preview(parquet_path: str, recipe_steps: list[Any]) -> StepPreview:
    """What the steps would do to this version (cached while the steps stay the same)."""
    return _cached_preview(parquet_path, Recipe(steps=recipe_steps).model_dump_json())


def reads_values(step: Any) -> bool:
    """Steps that read text as numbers or dates: values they cannot read become missing."""
    return cleaning.reads_values(step)


def question(result: StepPreview, action: str = "apply anyway") -> str:
    """“12 values can't be read as numbers and would become missing — apply anyway?”"""
    n = result.unreadable
    kinds = {e.what for e in result.effects if e.unreadable}
    what = f" as {kinds.pop()}" if len(kinds) == 1 and "values" not in kinds else ""
    values = "1 value" if n == 1 else f"{n:,} values"
    return f"{values} can't be read{what} and would become missing — {action}?"


def show_preview(result: StepPreview) -> None:
    """Each step's counts, then a few rows before and after (unreadable ones first)."""
    for effect in result.effects:
        parts = []
        if effect.changed:
            parts.append("1 value changes" if effect.changed == 1
                         else f"{effect.changed:,} values change")
        if effect.unreadable:
            parts.append(f"**{effect.unreadable:,} can't be read and would become missing**")
        if effect.rows_removed:
            parts.append(f"{effect.rows_removed:,} row{'' if effect.rows_removed == 1 else 's'}"
                         " would be removed")
        # the step's own sentence is in the list above: here only what it does
        counts = "; ".join(parts) if parts else "no values are changed or removed"
        st.markdown(f"**Step {effect.step}:** {counts}.")
    if result.examples:
        tables.dataframe(
            pd.DataFrame([{"Step": e.step, "Column": e.column, "Before": e.before or "(empty)",
              "After": "(missing)" if e.after is None else e.after,
              "Read?": "no, becomes missing" if e.unreadable else "yes"}
             for e in result.examples]),
            hide_index=True,
        )


def fix_button(dataset_id: int, index: int, step: Any, parquet_path: str,
               button_place: Any, message_place: Any) -> None:
    """The quality report's “Add fix”: a fix that would blank values asks first."""
    pending = f"dataset_fix_pending_{dataset_id}"
    fix_text = escape_markdown(describe_step(step))
    label = "Add fix"
    if cleaning.removes_rows(step):  # the button itself says which rows go and what with them
        label = escape_markdown(cleaning.fix_label(step, preview(parquet_path, [step]).effects[0]))
    if button_place.button(label, key=f"dataset_fix_{dataset_id}_{index}",
                           help=f"Adds this step to the recipe: {fix_text}"):
        if not reads_values(step) or not preview(parquet_path, [step]).unreadable:
            add(dataset_id, step)
            message_place.success(f"Added to the recipe: {fix_text}.", icon=":material/check:")
            return
        st.session_state[pending] = index
    if st.session_state.get(pending) != index:
        return
    result = preview(parquet_path, [step])
    with message_place:
        st.warning(question(result, "add it anyway"), icon=":material/warning:")
        show_preview(result)
        yes, no = st.columns(2)
        if yes.button("Add anyway", key=f"dataset_fix_anyway_{dataset_id}_{index}"):
            st.session_state.pop(pending, None)
            add(dataset_id, step)
            st.success(f"Added to the recipe: {fix_text}.", icon=":material/check:")
        elif no.button("Don't add it", key=f"dataset_fix_cancel_{dataset_id}_{index}"):
            st.session_state.pop(pending, None)
            st.rerun()


def _confirm_key(dataset_id: int) -> str:
    return f"dataset_recipe_confirm_{dataset_id}"


def apply_controls(dataset_id: int, parquet_path: str, place: Any) -> StepPreview | None:
    """The “Apply recipe” button, with a before/after preview; when values with content
    would become missing it asks first. Returns the preview when the recipe should run."""
    current = steps(dataset_id)
    result = preview(parquet_path, current)
    with st.expander("What these steps change (before and after)",
                     expanded=bool(result.unreadable)):
        show_preview(result)
    recipe_json = Recipe(steps=current).model_dump_json()
    if place.button("Apply recipe", type="primary", key="dataset_apply"):
        if not result.unreadable:
            return result
        st.session_state[_confirm_key(dataset_id)] = recipe_json
    if st.session_state.get(_confirm_key(dataset_id)) != recipe_json:
        return None
    st.warning(question(result), icon=":material/warning:")
    yes, no = st.columns(2)
    if yes.button("Apply anyway", key="dataset_apply_anyway"):
        st.session_state.pop(_confirm_key(dataset_id), None)
        return result
    if no.button("Don't apply", key="dataset_apply_cancel"):
        st.session_state.pop(_confirm_key(dataset_id), None)
        st.rerun()
    return None


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


def manual_step_form(dataset_id: int, columns: dict[str, str]) -> None:
    """A small form that builds one step of the chosen kind (`columns`: name → friendly type).
    It offers only what fits each column, so its defaults never lead to an error."""
    label = st.selectbox(
        "Add a step",
        list(MANUAL_STEPS),
        key=f"dataset_step_kind_{dataset_id}",
        help="Each step changes the data in one way; steps run in order.",
    )
    kind = MANUAL_STEPS[label]
    fill_column = None
    if kind == "impute":  # outside the form: what it can be filled with depends on its type
        fill_column = st.selectbox("Column", list(columns), key=f"dataset_fill_column_{dataset_id}",
                                   help="The column whose missing values get filled in.")
    with st.form(f"dataset_step_form_{dataset_id}_{kind}", border=True):
        fields = _fields(kind, columns, fill_column)
        if st.form_submit_button("Add to recipe"):
            try:
                add(dataset_id, _STEP.validate_python({"kind": kind, **fields}))
            except ValueError:
                st.error("Fill in every part of the step before adding it.")
                return
            st.rerun()


def _fields(kind: str, columns: dict[str, str],  # noqa: C901 - one form per kind
            fill_column: str | None) -> dict[str, Any]:
    texts = [name for name, dtype in columns.items() if is_text(dtype)]
    if kind in ("drop_missing", "drop_duplicates"):
        chosen = st.multiselect("Columns to look at (leave empty for all)", list(columns))
        return {"columns": chosen or None}
    if kind == "drop_columns":
        return {"columns": st.multiselect("Columns", list(columns))}
    if kind == "trim":
        return {"columns": st.multiselect("Columns (text columns only)", texts)}
    if kind == "normalise_case":
        case = st.radio(
            "Case",
            ["lower", "upper", "title"],
            horizontal=True,
            format_func={"lower": "lower case", "upper": "UPPER CASE", "title": "Title Case"}.get,
        )
        return {"columns": st.multiselect("Columns (text columns only)", texts), "case": case}
    if kind == "impute":
        is_numeric = fill_column is not None and is_number(columns[fill_column])
        method = st.radio(
            "Fill with",
            ["median", "mean", "mode", "constant"] if is_numeric else ["mode", "constant"],
            horizontal=True,
            format_func={
                "median": "the median",
                "mean": "the average",
                "mode": "the most common value",
                "constant": "a value I type",
            }.get,
        )
        if not is_numeric:
            st.caption("A column that is not numbers has no median or average.")
        value = st.text_input("Value (only for “a value I type”)")
        return {"column": fill_column, "method": method, "value": value or None}
    column = st.selectbox("Column", list(columns))
    if kind == "parse_number":
        decimal = st.radio(
            "Decimal mark",
            ["auto", ".", ","],
            horizontal=True,
            format_func={
                "auto": "as the values show",
                ".": "point (1,234.50)",
                ",": "comma (1.234,50)",
            }.get,
            help="“As the values show” reads the column the way a file is read: 8.425.333 "
            "can only use points between thousands, 779,45 only a decimal comma.",
        )
        return {"column": column, "decimal": None if decimal == "auto" else decimal}
    if kind == "parse_date":
        text = st.text_input(
            "Date format (optional)",
            placeholder="%d/%m/%Y",
            help="Leave empty to use the one format the column's values show (a 25 can only "
            "be a day); values written another way become missing and are counted first.",
        )
        return {"column": column, "format": text or None}
    if kind == "cast":
        to = st.selectbox("New type", CAST_TARGETS)
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
        # as typed: the cleaning service reads it the way the column holds values
        return {"column": column, "op": op, "value": value or None}
    return {"column": column}


