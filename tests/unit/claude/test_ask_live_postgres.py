"""Ask on a live dataset (issue 21): real SDK → fake Messages API, Claude's SQL guarded,
translated and run read-only on a real PostgreSQL source; the answer charted as a file's."""

import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, update

from components import chat
from services.access.users import UserView
from services.claude import ask_live, ask_prompts, ask_turns, conversations
from services.claude.ask_turns import STEP_PLAN, STEP_RUN_LIVE, TurnRequest
from services.data import datasets, live_datasets
from services.data.datasets import DatasetView
from services.errors import InvalidInput, QueryFailed, SourceUnavailable, UnsafeQuery
from services.settings import reset_settings_cache
from services.sources import door
from services.sources.catalog import SourceView
from services.store.db import session_scope
from services.store.models import DataSource, utcnow
from tests.factories import make_admin
from tests.fakes.claude_server import FakeClaude
from tests.live_source import LiveSource, add_reader_source

pytestmark = pytest.mark.usefixtures("claude_at_fake")

COUNT_SQL = ('SELECT "species", count(*) AS "Penguins" FROM "penguins" '
             'GROUP BY "species" ORDER BY "species"')


def _plan(sql: str, chart: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"when_tools": True, "tool_use": {"name": "run_sql", "input": {
        "sql": sql, "chart": chart, "explanation": "Counts the penguins."}}}


@pytest.fixture
def ada() -> Iterator[UserView]:
    yield make_admin()
    door.dispose_engines()


@pytest.fixture
def source(ada: UserView, live: LiveSource) -> SourceView:
    return add_reader_source(ada, live)


@pytest.fixture
def penguins(ada: UserView, source: SourceView) -> DatasetView:
    return live_datasets.create_live_dataset(ada, source.id, "public", "penguins")


def _penguin_count(live: LiveSource) -> int:
    engine = create_engine(live.server.url(live.database))
    try:
        with engine.connect() as connection:
            return int(connection.exec_driver_sql("SELECT count(*) FROM penguins").scalar() or 0)
    finally:
        engine.dispose()


def test_a_question_on_a_live_dataset_answers_with_its_numbers(
        ada: UserView, penguins: DatasetView, claude_at_fake: FakeClaude) -> None:
    claude_at_fake.enqueue(_plan(COUNT_SQL))
    steps: list[str] = []
    turn = ask_turns.answer_turn(ada, TurnRequest(question="How many penguins per species?",
                                                  dataset_ids=[penguins.id]),
                                 on_step=steps.append)
    assert steps == [STEP_PLAN, STEP_RUN_LIVE, ""]
    assert turn.answer.status == "answered" and turn.frame is not None
    assert dict(zip(turn.frame["species"], turn.frame["Penguins"], strict=True)) == {
        "Adelie": 152, "Chinstrap": 68, "Gentoo": 124}
    chart = turn.answer.details.chart  # one row per species: charted as it is, never counted
    assert chart is not None and (chart.chart_type, chart.x, chart.y) == \
        ("bar", "species", "Penguins") and chart.agg != "count"
    assert "Adelie" in turn.answer.content  # the answer is written from the rows
    assert turn.answer.details.tables == {"penguins": "penguins"}
    assert conversations.list_conversations(ada)[0].dataset_ids == [penguins.id]
    assert datasets.get_dataset(ada, penguins.id).live.read_at is not None  # type: ignore[union-attr]

    system = claude_at_fake.requests[0]["body"]["system"]
    text = system if isinstance(system, str) else " ".join(b["text"] for b in system)
    assert ask_prompts.LIVE_NOTE in text and "DuckDB dialect" in text
    assert '"name": "body_mass_g", "label": "body_mass_g", "type": "number"' in text
    assert "sample_rows" in text and "Torgersen" in text  # a few example rows, as for files


def test_exact_numbers_from_the_database_chart_as_numbers(
        ada: UserView, penguins: DatasetView, claude_at_fake: FakeClaude) -> None:
    """PostgreSQL's SUM of whole numbers is an exact number (Decimal): it must stay a number,
    so the answer is charted by its value, not as a count of one per row."""
    claude_at_fake.enqueue(_plan('SELECT "island", sum("year") AS "Years" FROM "penguins" '
                                 'GROUP BY 1 ORDER BY 1'))
    turn = ask_turns.answer_turn(ada, TurnRequest(question="Total year by island?",
                                                  dataset_ids=[penguins.id]))
    assert turn.frame is not None and turn.frame["Years"].dtype.kind == "f"
    chart = turn.answer.details.chart
    assert chart is not None and (chart.x, chart.y, chart.agg) == ("island", "Years", "sum")


def test_hostile_sql_from_claude_is_refused_and_changes_nothing(
        ada: UserView, penguins: DatasetView, live: LiveSource,
        claude_at_fake: FakeClaude) -> None:
    claude_at_fake.enqueue(
        _plan("SELECT pg_read_file('/etc/passwd') AS secret FROM \"penguins\""),
        _plan('SELECT pg_sleep(30) AS nap FROM "penguins"'),
        _plan('DELETE FROM "penguins"'))
    started = time.monotonic()
    turn = ask_turns.answer_turn(ada, TurnRequest(question="Read the server's files",
                                                  dataset_ids=[penguins.id]))
    assert time.monotonic() - started < 25  # pg_sleep(30) never ran
    assert turn.answer.status == "could_not_answer" and turn.answer.sql is None
    errors = [a.error or "" for a in turn.answer.details.attempts]
    assert len(errors) == 3 and all(e and "\n" not in e and "Traceback" not in e
                                    for e in errors)
    assert _penguin_count(live) == 344


@pytest.mark.parametrize("sql", [
    "SELECT current_setting('data_directory') AS d",
    "SELECT nextval('ticket_numbers') AS n",
    'SELECT * FROM "penguins" FOR UPDATE',
])
def test_the_sql_tab_refuses_what_reads_settings_or_writes(
        ada: UserView, penguins: DatasetView, live: LiveSource, sql: str) -> None:
    with pytest.raises(UnsafeQuery) as refused:
        ask_turns.run_sql(ada, sql, [penguins.id])
    message = str(refused.value)
    assert message and "\n" not in message and "Traceback" not in message
    assert _penguin_count(live) == 344


def test_the_sql_tab_runs_on_the_live_table(ada: UserView, penguins: DatasetView) -> None:
    ran = ask_turns.run_sql(ada, 'SELECT avg("body_mass_g") AS mass FROM "penguins"',
                            [penguins.id])
    assert ran.total_rows == 1 and round(float(ran.frame["mass"][0])) == 4202


def test_an_answer_past_the_row_limit_says_it_has_more_rows_not_the_limit_as_its_count(
        ada: UserView, penguins: DatasetView, claude_at_fake: FakeClaude,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A live database's answer stops at the row limit without counting the rest: the page
    says "more than 100", never "100 rows" (the file sandbox counts them all)."""
    monkeypatch.setenv("RESEARCH_DESK_QUERY_MAX_ROWS", "100")
    reset_settings_cache()
    ran = ask_turns.run_sql(ada, 'SELECT * FROM "penguins"', [penguins.id])
    assert (len(ran.frame), ran.total_rows, ran.rows_counted) == (100, 100, False)
    assert chat.rows_sentence(len(ran.frame), ran.total_rows, counted=ran.rows_counted) == (
        "Showing the first 100 rows; the answer has more than 100, and reading stops at 100.")
    claude_at_fake.enqueue(_plan('SELECT "species", "island" FROM "penguins"'))
    turn = ask_turns.answer_turn(ada, TurnRequest(question="List the penguins",
                                                  dataset_ids=[penguins.id]))
    assert turn.answer.row_count == 100 and turn.answer.details.rows_counted is False
    small = ask_turns.run_sql(ada, 'SELECT count(*) AS n FROM "penguins"', [penguins.id])
    assert (small.total_rows, small.rows_counted) == (1, True)
    assert chat.rows_sentence(1, 1) == "1 row."


def test_files_and_live_tables_are_not_mixed_in_one_question(
        ada: UserView, penguins: DatasetView, claude_at_fake: FakeClaude) -> None:
    tips = datasets.create_from_sample(ada, "tips")
    with pytest.raises(InvalidInput) as refused:
        ask_turns.answer_turn(ada, TurnRequest(question="Compare them",
                                               dataset_ids=[tips.id, penguins.id]))
    assert str(refused.value) == ask_live.MSG_MIXED and "snapshot" in str(refused.value)
    assert claude_at_fake.requests == [] and conversations.list_conversations(ada) == []


def test_live_tables_of_two_sources_are_not_mixed(
        ada: UserView, penguins: DatasetView, live: LiveSource) -> None:
    other = add_reader_source(ada, live, name="warehouse copy")
    weather = live_datasets.create_live_dataset(ada, other.id, "public", "seattle_weather")
    with pytest.raises(InvalidInput, match="one database at a time"):
        ask_turns.run_sql(ada, 'SELECT 1 AS one', [penguins.id, weather.id])


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_source_that_is_down_gives_one_sentence_before_claude_is_asked(
        ada: UserView, penguins: DatasetView, source: SourceView,
        claude_at_fake: FakeClaude) -> None:
    moved = source.url.replace(f":{source.address.port}/", f":{_free_port()}/")
    with session_scope(write=True) as session:  # the database server is gone
        session.execute(update(DataSource).where(DataSource.id == source.id)
                        .values(url=moved, updated_at=utcnow()))
    with pytest.raises((SourceUnavailable, QueryFailed)) as down:
        ask_turns.answer_turn(ada, TurnRequest(question="How many penguins per species?",
                                               dataset_ids=[penguins.id]))
    message = str(down.value)
    assert "reached" in message and "\n" not in message
    assert claude_at_fake.requests == [] and conversations.list_conversations(ada) == []
