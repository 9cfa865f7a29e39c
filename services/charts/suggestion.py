"""Claude's chart suggestion for an Ask result, checked against the result before it is used.

A suggestion is a hint, never trusted: it names columns that must be in the result, fits
their kinds (`validate_spec`) and must show the result's own numbers. The tool lets Claude
leave out how to combine values, and a spec without one counts rows — so a result that
already has one row per group (what GROUP BY gives) would become identical bars at 1 beside
a table of real values. Such a result is drawn as it is: its values, never re-counted.
"""

import pandas as pd
from pydantic import BaseModel

from services.charts.spec import SERIES_TYPES, ChartSpec, is_additive, validate_spec
from services.data.column_kinds import frame_kinds
from services.errors import InvalidInput

VALUE_AGGS = ("sum", "mean", "median", "min", "max")  # a no-op on one value per group


class FittedSuggestion(BaseModel):
    spec: ChartSpec | None  # None: the suggestion was dropped
    note: str = ""  # why it was dropped, for the chart's caption


def is_one_per_group(frame: pd.DataFrame, spec: ChartSpec) -> bool:
    """True when each x value (with its colour) has exactly one row: nothing to combine."""
    keys = [k for k in (spec.x, spec.color) if k]
    if not keys or spec.bucket is not None or any(k not in frame.columns for k in keys):
        return False
    return not frame.duplicated(subset=keys).any()


def values_as_they_are(frame: pd.DataFrame, spec: ChartSpec) -> bool:
    """True when a bar or line chart should plot the result's values unchanged."""
    return (spec.chart_type in SERIES_TYPES and spec.y is not None
            and spec.y in frame.columns and pd.api.types.is_numeric_dtype(frame[spec.y])
            and is_one_per_group(frame, spec))


def _rules_agg(column: str) -> str:
    """How rows of a column combine when nobody said: amounts add up, the rest average."""
    return "sum" if is_additive("sum", column) else "mean"


def _dropped(why: str) -> FittedSuggestion:
    return FittedSuggestion(spec=None, note=f"Claude's suggested chart {why}, so this chart "
                                            "is chosen from the result's own columns.")


def fit_suggestion(spec: ChartSpec | None, frame: pd.DataFrame) -> FittedSuggestion:
    """The suggestion made to fit the result, or None with a sentence saying why not."""
    if spec is None or frame.empty:
        return FittedSuggestion(spec=None)
    named = [spec.x, spec.y, spec.color, spec.facet, *(f.column for f in spec.filters)]
    missing = [name for name in named if name is not None and name not in frame.columns]
    if missing:
        return _dropped(f"used “{missing[0]}”, which is not a column of this result")
    kinds = frame_kinds(frame)
    try:
        validate_spec(spec, kinds)
    except InvalidInput:
        return _dropped("does not fit the kinds of columns in this result")
    if spec.chart_type not in SERIES_TYPES or spec.x is None:
        return FittedSuggestion(spec=spec)
    has_numbers = any(kind == "number" and name not in (spec.x, spec.color)
                      for name, kind in kinds.items())
    if is_one_per_group(frame, spec):
        if spec.y is None or kinds.get(spec.y) != "number":
            if has_numbers:  # counting one row per group draws 1 everywhere
                return _dropped("counted rows, which gives 1 for every group of this result")
            return FittedSuggestion(spec=spec)
        if spec.agg not in VALUE_AGGS:  # counting values again would draw 1s
            return FittedSuggestion(spec=spec.model_copy(update={"agg": _rules_agg(spec.y)}))
        return FittedSuggestion(spec=spec)
    # Rows still to combine and no word on how: combine them as the rules would.
    if "agg" not in spec.model_fields_set and spec.y is not None \
            and kinds.get(spec.y) == "number":
        return FittedSuggestion(spec=spec.model_copy(update={"agg": _rules_agg(spec.y)}))
    return FittedSuggestion(spec=spec)
