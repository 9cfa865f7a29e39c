"""A batch's results as a table, and as the CSV people download (spreadsheet formulas in the
text neutralised by `services.data.dataset_files.frame_csv_bytes`). The Prompt lab page and
the API both call these, so a script gets the same file as the download button."""

import pandas as pd

from services.data.dataset_files import frame_csv_bytes
from services.prompts.jobs import UnitView

NUMBER_COLUMNS = ("Tokens in", "Tokens out", "Seconds", "Cost (US$)")


def results_frame(units: list[UnitView]) -> pd.DataFrame:
    """One row per unit: its input, status, answer (or one column per output field),
    tokens, seconds, cost and error."""
    rows = []
    for unit in units:
        row: dict[str, object] = {"Input": unit.label, "Status": unit.status}
        if unit.fields:
            row.update({f"Answer: {k}": v for k, v in unit.fields.items()})
        else:
            row["Answer"] = unit.output or ""
        row.update({"Tokens in": unit.input_tokens, "Tokens out": unit.output_tokens,
                    "Seconds": round(unit.latency_ms / 1000, 2),
                    "Cost (US$)": round(unit.cost_estimate, 5), "Error": unit.error or ""})
        rows.append(row)
    return pd.DataFrame(rows)


def results_csv(units: list[UnitView]) -> bytes:
    """The results table as formula-safe CSV (a header only when there are none yet)."""
    frame = results_frame(units)
    if frame.empty:
        frame = pd.DataFrame(columns=["Input", "Status", "Answer", *NUMBER_COLUMNS, "Error"])
    return frame_csv_bytes(frame)
