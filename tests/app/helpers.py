"""Drive the real app.py in AppTest: sign in through the form, then open pages."""

import re
from pathlib import Path

from streamlit.testing.v1 import AppTest

from tests.factories import PASSWORD

TIMEOUT = 30
APP = Path(__file__).resolve().parents[2] / "app.py"


def new_app() -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    return at


def text_input(at: AppTest, label: str):  # noqa: ANN201 - AppTest element type
    return next(t for t in at.text_input if t.label == label)


def button(at: AppTest, label: str):  # noqa: ANN201
    return next(b for b in at.button if b.label == label)


def sign_in(username: str, password: str = PASSWORD) -> AppTest:
    at = new_app()
    text_input(at, "Username").input(username)
    text_input(at, "Password").input(password)
    button(at, "Sign in").click().run()
    return at


def open_page(at: AppTest, page: str) -> AppTest:
    at.switch_page(page)
    at.run()
    return at


def all_text(at: AppTest) -> str:
    parts = [e.value for e in at.title] + [e.value for e in at.markdown]
    parts += [e.value for e in at.subheader] + [e.value for e in at.header]
    parts += [e.value for e in at.error] + [e.value for e in at.info]
    parts += [e.value for e in at.warning] + [e.value for e in at.success]
    parts += [e.value for e in at.caption] + [e.value for e in at.text]
    return as_read("\n".join(str(p) for p in parts))


def as_read(markdown: str) -> str:
    """Markdown source as a person reads it: backslash escapes (components.text) removed."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown)
