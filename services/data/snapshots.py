"""Caps on result rows kept beyond the moment: snapshots stored with Ask answers and saved
insights (rows and bytes, from settings) and the full results a browser session holds."""

import json
from typing import Any

import pandas as pd

from services.settings import get_settings


def snapshot_records(frame: pd.DataFrame | None, *, max_rows: int | None = None,
                     max_bytes: int | None = None,
                     sample_seed: int | None = None) -> list[dict[str, Any]]:
    """JSON-safe rows (dates as ISO text, NaN as null): at most `max_rows` rows and about
    `max_bytes` bytes of JSON, whichever comes first (one answer once added 191 MB).
    The first rows are kept, or with `sample_seed` a random sample (the same on every run)
    in the frame's order: a chart's first rows are its lowest x, not a fair picture."""
    if frame is None or frame.empty:
        return []
    settings = get_settings()
    rows_cap = max_rows if max_rows is not None else settings.snapshot_max_rows
    bytes_cap = max_bytes if max_bytes is not None else settings.snapshot_max_bytes
    frame = frame.loc[:, ~frame.columns.duplicated()].reset_index(drop=True)
    # In a random order when sampling, so whichever cap cuts keeps a random sample.
    picked = frame if sample_seed is None else frame.sample(frac=1.0,
                                                            random_state=sample_seed)
    head = picked.head(rows_cap)
    records: list[dict[str, Any]] = json.loads(head.to_json(
        orient="records", date_format="iso", default_handler=str))
    kept: list[tuple[int, dict[str, Any]]] = []
    used = 2
    for position, record in zip(head.index, records, strict=True):
        size = len(json.dumps(record, ensure_ascii=False).encode()) + 1
        if used + size > bytes_cap:
            break
        kept.append((int(position), record))
        used += size
    return [record for _, record in sorted(kept, key=lambda pair: pair[0])]


def kept_rows_note(total_rows: int, kept: int, *, counted: bool = True) -> str:
    """One sentence for the page when fewer rows are kept than the answer has (`counted`
    False: `total_rows` is where reading stopped, and the answer has more)."""
    if kept >= total_rows:
        return ""
    of = f"{total_rows:,}" if counted else f"more than {total_rows:,}"
    return f"The conversation saves the first {kept:,} of {of} rows."


def remember_result(store: dict[int, pd.DataFrame], message_id: int, frame: pd.DataFrame,
                    ) -> None:
    """Keep a full result for this browser session, dropping the oldest ones beyond
    `ask_session_max_results` results or `ask_session_max_mb` megabytes."""
    settings = get_settings()
    store[message_id] = frame
    budget = settings.ask_session_max_mb * 1024 * 1024
    while len(store) > 1 and (len(store) > settings.ask_session_max_results
                              or _bytes(store) > budget):
        del store[next(iter(store))]  # dicts keep insertion order: the oldest first


def _bytes(store: dict[int, pd.DataFrame]) -> int:
    return sum(int(f.memory_usage(index=True, deep=True).sum()) for f in store.values())
