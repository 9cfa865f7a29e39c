"""A viewer is told, once per page, why controls are missing, and is never told to upload or
ask Claude (issue 19.13); the Admin form is empty again after adding a person."""

import pytest
from streamlit.testing.v1 import AppTest

from components.role_note import VIEWER_NOTES
from services.access.permissions import Role
from services.data import datasets
from tests.app.helpers import PASSWORD, all_text, button, open_page, sign_in, text_input
from tests.factories import make_admin, make_user

PAGES = {"home": "pages/home.py", "explore": "pages/explore.py", "boards": "pages/boards.py",
         "research": "pages/research.py", "usage": "pages/usage.py"}


@pytest.fixture()
def viewer_page() -> dict[str, AppTest]:
    admin = make_admin()
    make_user(admin, "vic", Role.VIEWER)
    make_user(admin, "ann")
    shared = datasets.create_from_sample(admin, "tips")
    datasets.set_shared(admin, shared.id, True)
    return {page: open_page(sign_in("vic"), path) for page, path in PAGES.items()}


def test_each_page_says_once_why_a_viewer_misses_controls(
        viewer_page: dict[str, AppTest]) -> None:
    for page, at in viewer_page.items():
        assert not at.exception, (page, at.exception)
        captions = [c.value for c in at.caption]
        assert captions.count(VIEWER_NOTES[page]) == 1, page
    assert "Save to research item" not in all_text(viewer_page["explore"])
    assert "saving a chart to a research item" in VIEWER_NOTES["explore"]


def test_home_and_usage_never_tell_a_viewer_to_upload_or_ask_claude(
        viewer_page: dict[str, AppTest]) -> None:
    for page in ("home", "usage"):
        text = all_text(viewer_page[page]).replace(VIEWER_NOTES[page], "")
        for hint in ("upload", "Ask and the Prompt lab", "ANTHROPIC_API_KEY", "Claude budget",
                     "no limit on your use", "Try a sample dataset"):
            assert hint not in text, (page, hint)


def test_analysts_get_no_viewer_line() -> None:
    admin = make_admin()
    make_user(admin, "ann")
    for path in PAGES.values():
        at = open_page(sign_in("ann"), path)
        assert not set(VIEWER_NOTES.values()) & {c.value for c in at.caption}


def test_the_add_person_form_is_empty_after_success() -> None:
    make_admin()
    at = open_page(sign_in("ada"), "pages/admin.py")
    text_input(at, "Name").input("Vic Viewer")
    text_input(at, "Username").input("vic")
    text_input(at, "First password").input(PASSWORD)
    button(at, "Add person").click().run()
    assert not at.exception
    assert "Vic Viewer can now sign in as “vic”." in all_text(at)
    assert [text_input(at, label).value for label in ("Name", "Username", "First password")] \
        == ["", "", ""]
