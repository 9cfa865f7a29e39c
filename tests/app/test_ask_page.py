"""AppTest: the Ask page with and without Claude, the SQL tab, a real question against the
fake Messages API, follow-ups, faults that keep the question, and conversation management."""

import base64
import json
from collections.abc import Iterator

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from services import settings
from services.access.permissions import Role
from services.access.users import UserView
from services.claude import client as claude
from services.claude import conversations, usage
from services.claude.usage import BudgetChange
from services.data import datasets
from tests.app.helpers import all_text, button, open_page, sign_in
from tests.factories import make_admin, make_user
from tests.fakes.claude_server import FakeClaude, point_claude_at

PAGE = "pages/ask.py"
QUESTION = "Which continent has the biggest pop?"


@pytest.fixture
def admin() -> UserView:
    ada = make_admin()
    sample = datasets.create_from_sample(ada, "gapminder")
    datasets.set_shared(ada, sample.id, True)  # analysts see it too
    return ada


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeClaude]:
    with FakeClaude() as server:
        point_claude_at(server, monkeypatch, max_retries=1)
        yield server
    settings.reset_settings_cache()
    claude.reset_clients()


def _ask_page(username: str) -> AppTest:
    at = open_page(sign_in(username), PAGE)
    assert not at.exception, at.exception
    return at


def _ask(at: AppTest, question: str) -> AppTest:
    at.chat_input(key="ask_input").set_value(question).run()
    assert not at.exception, at.exception
    return at


@pytest.mark.parametrize("role", [Role.ADMIN, Role.ANALYST])
def test_without_a_key_the_page_explains_and_disables_chat(admin: UserView, role: Role) -> None:
    username = "ada" if role == Role.ADMIN else "ann"
    if role != Role.ADMIN:
        make_user(admin, username, role)
    at = _ask_page(username)
    text = all_text(at)
    assert "Claude is not set up yet" in text and "ANTHROPIC_API_KEY" in text
    assert at.chat_input(key="ask_input").disabled
    assert at.multiselect(key="ask_datasets").value == [datasets.list_datasets(admin)[0].id]
    assert "gapminder" in at.dataframe[0].value["Table name in SQL"].tolist()


@pytest.mark.parametrize("role", [Role.ADMIN, Role.ANALYST])
def test_with_a_key_chat_is_enabled_with_starter_questions(admin: UserView, role: Role,
                                                           fake: FakeClaude) -> None:
    username = "ada" if role == Role.ADMIN else "ann"
    if role != Role.ADMIN:
        make_user(admin, username, role)
    at = _ask_page(username)
    assert not at.chat_input(key="ask_input").disabled
    starters = [b.label for b in at.button if b.key and b.key.startswith("ask_starter_")]
    assert starters and any("continent" in s for s in starters)
    assert "Claude is not set up yet" not in all_text(at)


def test_viewers_cannot_open_ask(admin: UserView) -> None:
    make_user(admin, "vic", Role.VIEWER)
    at = open_page(sign_in("vic"), PAGE)
    assert "This page is not available to you" in all_text(at)
    assert not at.chat_input


def test_sql_tab_runs_a_query_and_refuses_drop(admin: UserView) -> None:
    at = _ask_page("ada")
    at.session_state["ask_tab"] = "SQL"  # only the open tab runs, as a click on it does
    at.run()
    area = at.text_area(key="ask_sql_text")
    area.set_value('SELECT continent, count(*) AS "Rows" FROM "gapminder" '
                   "GROUP BY 1 ORDER BY 1").run()
    at.button(key="ask_sql_run").click().run()
    assert not at.exception
    result = at.dataframe[-1].value
    assert list(result.columns) == ["continent", "Rows"] and len(result) == 5
    assert "5 rows." in all_text(at)
    at.text_area(key="ask_sql_text").set_value("DROP TABLE x").run()
    at.button(key="ask_sql_run").click().run()
    assert "not allowed here" in " ".join(e.value for e in at.error)
    assert not at.exception


def test_a_question_gets_an_answer_sql_table_and_a_stored_conversation(
        admin: UserView, fake: FakeClaude) -> None:
    at = _ask(_ask_page("ada"), QUESTION)
    text = all_text(at)
    assert "The result has 5 rows" in text  # the fake's streamed answer
    sql = [c.value for c in at.code]
    assert any('GROUP BY' in s and '"gapminder"' in s for s in sql)
    answer_table = at.dataframe[-1].value
    assert list(answer_table.columns) == ["continent", "total_pop"]
    assert "5 rows." in text
    threads = conversations.list_conversations(admin)
    assert [t.title for t in threads] == [QUESTION]
    stored = conversations.list_messages(admin, threads[0].id)
    assert stored[1].sql and stored[1].row_count == 5 and stored[1].input_tokens > 0
    assert usage.monthly_usage("ada").calls == 2  # plan + answer, recorded by the sink

    follow_up = "And which country has the biggest pop?"
    at = _ask(at, follow_up)
    last = fake.message_requests[-2]["body"]  # the plan request of the follow-up
    sent = str(last["messages"])
    assert QUESTION in sent and follow_up in sent
    assert len(conversations.list_messages(admin, threads[0].id)) == 4
    assert not at.exception


def _bars(at: AppTest) -> dict:
    figure = json.loads(at.get("plotly_chart")[-1].proto.spec)
    bars = figure["data"][0]
    y = bars["y"]
    if isinstance(y, dict):  # plotly sends numbers as typed binary arrays
        y = np.frombuffer(base64.b64decode(y["bdata"]), dtype=y["dtype"]).tolist()
    return dict(zip(bars["x"], y, strict=True))


def test_a_grouped_answer_is_charted_with_the_values_in_its_table(
        admin: UserView, fake: FakeClaude) -> None:
    """Claude's chart leaves out how to combine values; the result has one row per
    continent, so the bars are the table's values and the caption quotes them (issue 19.1)."""
    sql = ('SELECT "continent", round(avg("gdpPercap"), 1) AS "Mean GDP" FROM "gapminder" '
           'GROUP BY 1 ORDER BY 2 DESC')
    fake.enqueue({"tool_use": {"name": "run_sql", "input": {
        "sql": sql, "chart": {"chart_type": "bar", "x": "continent", "y": "Mean GDP"},
        "explanation": "Averages GDP per person by continent."}}})
    at = _ask(_ask_page("ada"), QUESTION)
    table = at.dataframe[-1].value
    values = dict(zip(table["continent"], table["Mean GDP"], strict=True))
    assert _bars(at) == values
    top, bottom = max(values, key=values.get), min(values, key=values.get)
    caption = all_text(at)
    assert f"{top} is highest ({values[top]:,.1f})" in caption
    assert f"{bottom} lowest ({values[bottom]:,.1f})" in caption
    assert "are equal (1)" not in caption


def test_a_suggested_chart_naming_a_column_not_in_the_result_is_dropped_and_said(
        admin: UserView, fake: FakeClaude) -> None:
    sql = 'SELECT "continent", sum("pop") AS "Total pop" FROM "gapminder" GROUP BY 1'
    fake.enqueue({"tool_use": {"name": "run_sql", "input": {
        "sql": sql, "chart": {"chart_type": "bar", "x": "continent", "y": "pop"},
        "explanation": "Adds up the population by continent."}}})
    at = _ask(_ask_page("ada"), QUESTION)
    assert "Claude's suggested chart used “pop”, which is not a column of this result" \
        in all_text(at)
    table = at.dataframe[-1].value
    assert _bars(at) == dict(zip(table["continent"], table["Total pop"], strict=True))


def test_claude_down_keeps_the_question_for_a_retry(admin: UserView, fake: FakeClaude) -> None:
    fake.fail_next(status=500, count=5)
    at = _ask(_ask_page("ada"), QUESTION)
    assert any("did not recover" in e.value for e in at.error)
    assert QUESTION in all_text(at)
    assert conversations.list_conversations(admin) == []  # nothing half-stored
    fake.reset()
    button(at, "Try again").click().run()
    assert "The result has 5 rows" in all_text(at)
    assert len(conversations.list_conversations(admin)) == 1


def test_budget_used_up_refuses_before_calling_claude(admin: UserView,
                                                      fake: FakeClaude) -> None:
    usage.set_budget(admin, BudgetChange(username="ada", monthly_tokens=0))
    at = _ask(_ask_page("ada"), QUESTION)
    assert any("budget" in e.value for e in at.error)
    assert fake.message_requests == []
    assert "Try again" in [b.label for b in at.button]


def test_could_not_answer_is_honest_and_shows_what_was_tried(admin: UserView,
                                                             fake: FakeClaude) -> None:
    bad = {"tool_use": {"name": "run_sql", "input": {"sql": "SELECT nope FROM gapminder",
                                                     "explanation": "x"}}}
    fake.enqueue(bad, bad, bad)
    at = _ask(_ask_page("ada"), QUESTION)
    text = all_text(at)
    assert "I could not answer that" in text
    assert "3 attempts did not work" in text
    assert len([c for c in at.code if "nope" in c.value]) == 3


def test_conversations_reopen_rename_and_delete(admin: UserView, fake: FakeClaude) -> None:
    at = _ask(_ask_page("ada"), QUESTION)
    thread = conversations.list_conversations(admin)[0]
    at.button(key="ask_new").click().run()
    assert "Try one of these questions" in all_text(at)
    at.button(key=f"ask_open_{thread.id}").click().run()
    assert "The result has 5 rows" in all_text(at)
    at.text_input(key=f"ask_rename_{thread.id}").set_value("Population by continent").run()
    at.button(key=f"ask_rename_save_{thread.id}").click().run()
    assert conversations.get_conversation(admin, thread.id).title == "Population by continent"
    at.checkbox(key=f"ask_delete_sure_{thread.id}").check().run()
    at.button(key=f"ask_delete_{thread.id}").click().run()
    assert conversations.list_conversations(admin) == []
    assert not at.exception


def test_no_datasets_offers_a_sample(fake: FakeClaude) -> None:
    ada = make_admin()
    at = _ask_page("ada")
    assert "no datasets to ask about" in all_text(at)
    button(at, "Add the “Palmer penguins” sample dataset").click().run()
    assert [d.name for d in datasets.list_datasets(ada)] == ["Palmer penguins"]
    assert at.multiselect(key="ask_datasets").value == [datasets.list_datasets(ada)[0].id]


def _claude_tab() -> None:
    from components import claude_admin
    from services.access import users

    admin_user = users.get_user("ada")
    assert admin_user is not None
    claude_admin.show(admin_user)


def test_claude_admin_sets_a_budget_and_the_sample_switch(admin: UserView) -> None:
    make_user(admin, "bob")
    at = AppTest.from_function(_claude_tab, default_timeout=30).run()
    assert not at.exception, at.exception
    assert "Monthly budgets" in all_text(at)
    at.selectbox(key="claude_admin_person").select("bob").run()
    at.number_input[0].set_value(5000)
    button(at, "Save budget").click().run()
    assert usage.get_budget("bob").monthly_tokens == 5000
    assert "Budget for bob saved" in all_text(at)
    budgets = at.dataframe[0].value
    bob = budgets[budgets["Person"].str.endswith("(bob)")].iloc[0]
    assert bob["Token budget per month"] == "5,000"  # the table shows it in the same run
    at.toggle(key="claude_admin_samples").set_value(False).run()
    assert usage.sends_sample_rows() is False
    assert "claude-sonnet-4-6" in all_text(at)
