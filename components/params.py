"""Reading numbers from the page address safely."""

import re

_ID = re.compile(r"[0-9]{1,18}")  # ASCII digits only: "²".isdigit() is True; fits BIGINT


def id_from_text(raw: str | None) -> int | None:
    """A record id typed or linked in a URL, or None for anything else (no apology page)."""
    if raw is None or not _ID.fullmatch(raw):
        return None
    return int(raw)
