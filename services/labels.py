"""Names and titles people type: spaces tidied, never empty, never too long."""

from services.errors import InvalidInput


def clean_label(text: str, *, what: str, limit: int) -> str:
    """`what` names the thing in the messages, e.g. "dataset name"."""
    label = " ".join(text.split())
    if not label:
        raise InvalidInput(f"Please enter a {what}.")
    if len(label) > limit:
        raise InvalidInput(f"A {what} can be at most {limit:,} characters long.")
    return label
