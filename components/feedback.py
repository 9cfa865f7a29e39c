"""Turning errors into friendly messages, in one place for every page."""

from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from components.text import escape_markdown
from services.errors import ResearchDeskError
from services.logs import report_unexpected


@contextmanager
def friendly_errors(where: str) -> Iterator[None]:
    """Show expected errors as their sentence; unexpected ones as an apology with an id."""
    try:
        yield
    except ResearchDeskError as error:
        st.error(escape_markdown(str(error)), icon=":material/error:")  # names data
    except Exception as error:  # the last line of defence: never a stack trace
        reference = report_unexpected(error, where=where, user=st.session_state.get("username"))
        st.error(
            "Sorry, something went wrong on our side. Please try again; if it keeps "
            f"happening, give an admin this reference: **{reference}**.",
            icon=":material/sentiment_dissatisfied:",
        )


def empty_state(message: str, *, hint: str = "") -> None:
    st.info(escape_markdown(message + (f" {hint}" if hint else "")), icon=":material/lightbulb:")


FLASH_KEY = "feedback_flash"


def flash(message: str) -> None:
    """A success message that survives the st.rerun() that follows a change."""
    st.session_state[FLASH_KEY] = message


def show_flash() -> None:
    message = st.session_state.pop(FLASH_KEY, None)
    if message:
        st.success(escape_markdown(message), icon=":material/check_circle:")
