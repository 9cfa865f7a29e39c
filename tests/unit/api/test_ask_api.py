"""/v1/ask through the real Ask service, the real SDK and the fake Messages API."""

import json
from pathlib import Path
from typing import Any

import pytest

from services.claude import wiring
from services.data import datasets
from tests.fakes.claude_server import FakeClaude
from tests.unit.api.conftest import Api, People, problem_of, upload_csv

SQLISH = "x'); DROP TABLE datasets; --"


def _plan(sql: str) -> dict[str, Any]:
    return {"when_tools": True, "tool_use": {"name": "run_sql", "input": {
        "sql": sql, "chart": None, "explanation": "Counts by species."}}}


@pytest.fixture
def claude(claude_at_fake: FakeClaude) -> FakeClaude:
    wiring.install()
    return claude_at_fake


def test_an_analyst_gets_answer_sql_and_rows(api: Api, people: People, tmp_path: Path,
                                             claude: FakeClaude) -> None:
    dataset_id = upload_csv(people.analyst, tmp_path)
    claude.script([_plan('SELECT "species", count(*) AS n FROM "penguins" GROUP BY 1 '
                         'ORDER BY 1'),
                   {"when_tools": False, "text": "Adelie is the most common."}])
    response = api.post("/v1/ask", token=people.token(people.analyst),
                        json={"question": "Which species is most common?",
                              "dataset_ids": [dataset_id]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "answered" and body["answer"] == "Adelie is the most common."
    assert "GROUP BY" in body["sql"] and body["columns"] == ["species", "n"]
    assert body["rows"] == [{"species": "Adelie", "n": 2}, {"species": "Gentoo", "n": 1}]


def test_stream_sends_result_answer_and_done_events(api: Api, people: People, tmp_path: Path,
                                                    claude: FakeClaude) -> None:
    dataset_id = upload_csv(people.analyst, tmp_path)
    claude.script([_plan('SELECT count(*) AS n FROM "penguins"'),
                   {"when_tools": False, "text": "There are three penguins.",
                    "chunk_size": 5}])
    response = api.post("/v1/ask", token=people.token(people.analyst),
                        json={"question": "How many?", "dataset_ids": [dataset_id],
                              "stream": True})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = [block.split("\n", 1) for block in response.text.strip().split("\n\n")]
    names = [head.removeprefix("event: ") for head, _ in events]
    assert names[0] == "result" and names[-1] == "done" and names.count("answer") > 1
    result = json.loads(events[0][1].removeprefix("data: "))
    assert result["rows"] == [{"n": 3}] and result["answer"] == ""
    text = "".join(json.loads(data.removeprefix("data: "))["text"]
                   for head, data in events if head == "event: answer")
    assert text == "There are three penguins."


def test_ask_without_claude_configured_says_so(api: Api, people: People,
                                               tmp_path: Path) -> None:
    dataset_id = upload_csv(people.analyst, tmp_path)
    response = api.post("/v1/ask", token=people.token(people.analyst),
                        json={"question": "How many?", "dataset_ids": [dataset_id]})
    assert response.status_code == 200
    assert response.json()["status"] == "unavailable" and response.json()["error"]


def test_ask_refuses_private_datasets_viewers_and_bad_input(api: Api, people: People,
                                                           tmp_path: Path,
                                                           claude: FakeClaude) -> None:
    private = upload_csv(people.other, tmp_path)
    token = people.token(people.analyst)
    problem_of(api.post("/v1/ask", token=token,
                        json={"question": "How many?", "dataset_ids": [private]}), 404)
    problem_of(api.post("/v1/ask", token=token,
                        json={"question": "How many?", "dataset_ids": [123456]}), 404)
    problem_of(api.post("/v1/ask", token=token, json={"question": "", "dataset_ids": [1]}), 422)
    problem_of(api.post("/v1/ask", token=token,
                        json={"question": "q", "dataset_ids": [1], "sql": "DROP"}), 422)
    datasets.set_shared(people.other, private, True)
    problem_of(api.post("/v1/ask", token=people.token(people.viewer),
                        json={"question": "How many?", "dataset_ids": [private]}), 403)
    assert claude.message_requests == []  # refused before any Claude token was spent


def test_sql_looking_questions_are_just_questions(api: Api, people: People, tmp_path: Path,
                                                  claude: FakeClaude) -> None:
    dataset_id = upload_csv(people.analyst, tmp_path)
    response = api.post("/v1/ask", token=people.token(people.analyst),
                        json={"question": SQLISH, "dataset_ids": [dataset_id]})
    assert response.status_code == 200
    assert datasets.get_dataset(people.analyst, dataset_id).rows == 3


def test_numbers_not_in_the_rows_are_named_plainly_and_streamed_too(
        api: Api, people: People, tmp_path: Path, claude: FakeClaude) -> None:
    dataset_id = upload_csv(people.analyst, tmp_path)
    sql = 'SELECT "species", count(*) AS n FROM "penguins" GROUP BY 1 ORDER BY 1'
    claude.script([_plan(sql), {"when_tools": False,
                                "text": "Adelie has 2 penguins and Gentoo 7."}])
    body = api.post("/v1/ask", token=people.token(people.analyst),
                    json={"question": "Penguins per species?",
                          "dataset_ids": [dataset_id]}).json()
    assert body["unchecked_numbers"] == ["7"]
    assert body["number_check"] == ("This number does not appear in the result; check it "
                                    "against the table.")
    claude.script([_plan(sql), {"when_tools": False, "text": "Adelie has 2 and Gentoo 1.",
                                "chunk_size": 5}])
    streamed = api.post("/v1/ask", token=people.token(people.analyst),
                        json={"question": "Penguins per species?",
                              "dataset_ids": [dataset_id], "stream": True}).text
    done = json.loads(streamed.strip().split("\n\n")[-1].split("\n", 1)[1]
                      .removeprefix("data: "))
    assert done == {"status": "answered", "unchecked_numbers": [], "number_check": ""}
