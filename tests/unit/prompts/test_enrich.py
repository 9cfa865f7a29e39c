"""Enrich a dataset, end to end against the fake Messages API: the output fields become typed
columns of a new version; failures and rows not chosen stay missing; re-applying reuses
stored results; budgets, roles and bad input refuse before anything is sent or changed."""

import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import select

from services.access.users import UserView
from services.claude import usage
from services.claude.usage import BudgetChange
from services.data import datasets
from services.data.dataset_models import FilterRows, RenameColumn
from services.data.sql_names import read_columns
from services.errors import BudgetExceeded, InvalidInput, PermissionDenied
from services.prompts import enrich, jobs, message_batches, runner, templates
from services.prompts.enrich import EnrichRequest
from services.prompts.sources import RowSelection
from services.prompts.templates import OutputField, TemplateDraft
from services.store.db import session_scope
from services.store.models import Run
from tests.fakes.claude_server import FakeClaude

COMMENTS = pd.DataFrame({
    "id": [1, 2, 3, 4, 5, 6],
    "comment": ["The price is too high", "Delivery was slow", "I love it", "",
                "The price is too high", "broken answer please"],
    "category": ["x", "y", "x", "y", "x", "y"],
})
ANSWERS = {
    "price": {"category": "price", "reason": "Mentions the price.", "score": 2, "urgent": True},
    "slow": {"category": "speed", "reason": "Says it was slow.", "score": 3.5,
             "urgent": False},
    "love": {"category": "praise", "reason": "Happy customer.", "score": 5, "urgent": False},
}
FIELDS = [OutputField(name="category", type="category", choices=["price", "speed", "praise"]),
          OutputField(name="reason"), OutputField(name="score", type="number"),
          OutputField(name="urgent", type="yes_no")]


def _script(fake: FakeClaude, **reply: Any) -> None:
    rules: list[dict[str, Any]] = [
        {"match": word, "tool_use": {"name": "record_answer", "input": answer}, **reply}
        for word, answer in ANSWERS.items()]
    rules.append({"match": "broken", "tool_use": {"name": "record_answer",
                                                  "input": {"category": "nonsense"}}})
    fake.script(rules)


def _dataset(actor: UserView, tmp_path: Path, frame: pd.DataFrame = COMMENTS) -> int:
    path = tmp_path / "comments.csv"
    frame.to_csv(path, index=False)
    view, _ = datasets.create_from_upload(actor, path, original_name="comments.csv")
    return view.id


def _template(actor: UserView, **change: Any) -> int:
    base: dict[str, Any] = {"name": "Classify", "body": "Classify this comment: {comment}",
                            "model": "claude-haiku-4-5", "max_tokens": 200,
                            "output_fields": FIELDS}
    return templates.create_template(actor, TemplateDraft(**{**base, **change})).id


def _request(template_id: int, dataset_id: int, **rows: Any) -> EnrichRequest:
    return EnrichRequest(template_id=template_id,
                         rows=RowSelection(dataset_id=dataset_id, **rows))


def _wait(job_id: int) -> None:
    active = runner.get_runner()
    assert isinstance(active, runner.ThreadRunner)
    assert active.wait(job_id, timeout=30)


def _frame(actor: UserView, dataset_id: int, version: int | None = None) -> pd.DataFrame:
    return pd.read_parquet(datasets.get_version(actor, dataset_id, version).parquet_path)


def _expected(frame: pd.DataFrame, failed: tuple[str, ...] = ("broken",)) -> pd.DataFrame:
    def answer(text: str) -> dict[str, Any]:
        for word, fields in ANSWERS.items():
            if word in text and not any(f in text for f in failed):
                return fields
        return {}

    rows = [answer(t) for t in frame["comment"].fillna("")]
    return pd.DataFrame({
        "category_2": [r.get("category") for r in rows],
        "reason": [r.get("reason") for r in rows],
        "score": pd.array([r.get("score") for r in rows], dtype="Float64"),
        "urgent": pd.array([r.get("urgent") for r in rows], dtype="boolean")})


def test_output_fields_become_typed_columns_of_a_new_version(
        claude_at_fake: FakeClaude, analyst: UserView, tmp_path: Path) -> None:
    _script(claude_at_fake)
    dataset_id = _dataset(analyst, tmp_path)
    request = _request(_template(analyst), dataset_id)
    plan = enrich.plan_enrichment(analyst, request)
    assert (plan.chosen, plan.empty, plan.reused, plan.to_send, plan.calls) == (6, 1, 0, 5, 4)
    assert plan.columns == ["category_2", "reason", "score", "urgent"]
    assert "0 rows already have results (no cost), 5 will be sent" in plan.sentence
    outcome = enrich.start_enrichment(analyst, request)
    assert outcome.job is not None
    _wait(outcome.job.id)
    job = jobs.get_job(analyst, outcome.job.id)
    assert job.status == "done" and job.kind == "enrich"
    assert enrich.new_version_of(job) == 2
    assert "New version 2" in job.message and "4 rows got values, 1 failed" in job.message
    assert "1 was empty and skipped" in job.message
    assert len(claude_at_fake.message_requests) == 4  # the repeated comment went once
    frame = _frame(analyst, dataset_id)
    assert list(frame.columns) == ["id", "comment", "category", "category_2", "reason",
                                   "score", "urgent"]
    expected = _expected(COMMENTS)
    for name in expected.columns:  # the same values, missing where pandas has none
        got = [None if pd.isna(v) else v for v in frame[name]]
        assert got == [None if pd.isna(v) else v for v in expected[name]], name
    assert str(frame["score"].dtype) == "float64"
    assert str(frame["urgent"].dtype) in ("boolean", "object")
    version = datasets.get_version(analyst, dataset_id)
    types = {c.name: c.dtype for c in read_columns(Path(version.parquet_path))}
    assert types["score"] == "number" and types["urgent"] == "true/false"
    assert types["category_2"] == "category" and types["reason"] == "text"
    step = version.recipe[0]  # type: ignore[index]
    assert step["kind"] == "add_claude_columns" and step["template_version"] == 1
    assert step["model"] == "claude-haiku-4-5" and step["inputs"] == {"comment": "comment"}
    assert [c["field"] for c in step["columns"]] == ["category", "reason", "score", "urgent"]
    assert "with Claude" in version.note
    with session_scope() as session:
        features = list(session.scalars(select(Run.feature).where(Run.username == "ann")))
    assert features == ["prompt.enrich"] * 4  # the Usage page's "Enrich"
    assert {r["body"]["model"] for r in claude_at_fake.message_requests} == {"claude-haiku-4-5"}


def test_reapplying_reuses_stored_results_and_sends_nothing_for_unchanged_rows(
        claude_at_fake: FakeClaude, analyst: UserView, tmp_path: Path) -> None:
    _script(claude_at_fake)
    clean = COMMENTS[COMMENTS["comment"].str.contains("price|slow|love")]
    dataset_id = _dataset(analyst, tmp_path, clean)
    template_id = _template(analyst)
    first = enrich.start_enrichment(analyst, _request(template_id, dataset_id))
    assert first.job is not None
    _wait(first.job.id)
    sent = len(claude_at_fake.message_requests)
    assert sent == 3
    claude_at_fake.reset()
    # a cleaning step in between: the column is renamed and one row removed
    datasets.apply_steps(analyst, dataset_id, [
        RenameColumn(column="comment", new_name="text"),
        FilterRows(column="text", op="not_contains", value="slow")], base_version=1)
    again = _request(template_id, dataset_id, version=3)
    again.inputs = {"comment": "text"}
    plan = enrich.plan_enrichment(analyst, again)
    assert (plan.reused, plan.to_send, plan.calls) == (3, 0, 0)
    assert "3 rows already have results (no cost), 0 will be sent" in plan.sentence
    outcome = enrich.start_enrichment(analyst, again)
    assert outcome.job is None and outcome.new_version == 4
    assert claude_at_fake.requests == []  # not a single request, not even a token count
    frame = _frame(analyst, dataset_id)
    assert list(frame["category_2"]) == ["price", "praise", "price"]
    assert list(frame["reason"]) == ["Mentions the price.", "Happy customer.",
                                     "Mentions the price."]


def test_reapplying_sends_only_rows_without_a_stored_result(
        claude_at_fake: FakeClaude, analyst: UserView, tmp_path: Path) -> None:
    _script(claude_at_fake)
    dataset_id = _dataset(analyst, tmp_path)
    template_id = _template(analyst)
    first = enrich.start_enrichment(analyst, _request(template_id, dataset_id))
    assert first.job is not None
    _wait(first.job.id)
    claude_at_fake.reset()
    claude_at_fake.script([{"tool_use": {"name": "record_answer", "input": {
        "category": "speed", "reason": "Fixed now.", "score": 1, "urgent": True}}}])
    request = _request(template_id, dataset_id, version=1)
    plan = enrich.plan_enrichment(analyst, request)
    assert (plan.reused, plan.to_send, plan.calls) == (4, 1, 1)
    outcome = enrich.start_enrichment(analyst, request)
    assert outcome.job is not None
    _wait(outcome.job.id)
    sent = [r["body"]["messages"][0]["content"] for r in claude_at_fake.message_requests]
    assert sent == ["Classify this comment: broken answer please"]
    frame = _frame(analyst, dataset_id)
    assert list(frame["category_2"].fillna("-")) == ["price", "speed", "praise", "-", "price",
                                                     "speed"]


def test_rows_not_chosen_get_missing_values(claude_at_fake: FakeClaude, analyst: UserView,
                                            tmp_path: Path) -> None:
    _script(claude_at_fake)
    dataset_id = _dataset(analyst, tmp_path)
    outcome = enrich.start_enrichment(analyst, _request(
        _template(analyst), dataset_id, mode="filter", filter_column="comment",
        filter_text="price"))
    assert outcome.job is not None
    _wait(outcome.job.id)
    assert len(claude_at_fake.message_requests) == 1
    frame = _frame(analyst, dataset_id)
    assert list(frame["category_2"].isna()) == [False, True, True, True, False, True]
    assert len(frame) == 6


def test_budget_refusal_spends_nothing(claude_at_fake: FakeClaude, admin: UserView,
                                       analyst: UserView, tmp_path: Path) -> None:
    _script(claude_at_fake)
    dataset_id = _dataset(analyst, tmp_path)
    usage.set_budget(admin, BudgetChange(username="ann", monthly_cost=0.000001))
    with pytest.raises(BudgetExceeded):
        enrich.start_enrichment(analyst, _request(_template(analyst), dataset_id))
    assert claude_at_fake.message_requests == []
    assert usage.monthly_usage("ann").calls == 0
    assert jobs.list_jobs(analyst) == []
    assert datasets.get_dataset(analyst, dataset_id).current_version == 1


def test_viewers_and_people_who_may_not_change_the_dataset_are_refused(
        claude_at_fake: FakeClaude, admin: UserView, analyst: UserView, viewer: UserView,
        tmp_path: Path) -> None:
    dataset_id = _dataset(analyst, tmp_path)
    datasets.set_shared(analyst, dataset_id, True)
    template_id = _template(analyst)
    with pytest.raises(PermissionDenied):
        enrich.plan_enrichment(viewer, _request(template_id, dataset_id))
    from tests.factories import make_user

    other = make_user(admin, "otto")
    with pytest.raises(PermissionDenied, match="owner or an admin"):
        enrich.start_enrichment(other, _request(template_id, dataset_id))
    assert claude_at_fake.requests == []
    assert datasets.get_dataset(analyst, dataset_id).current_version == 1


def test_a_cancelled_enrichment_can_be_saved_as_a_version(
        claude_at_fake: FakeClaude, analyst: UserView, tmp_path: Path) -> None:
    _script(claude_at_fake, delay=1.0)
    dataset_id = _dataset(analyst, tmp_path)
    request = _request(_template(analyst), dataset_id)
    request.concurrency = 1
    outcome = enrich.start_enrichment(analyst, request)
    assert outcome.job is not None
    job_id = outcome.job.id
    deadline = time.monotonic() + 20
    while jobs.progress(analyst, job_id).done < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    jobs.request_cancel(analyst, job_id)
    _wait(job_id)
    job = jobs.get_job(analyst, job_id)
    assert job.status == "cancelled" and enrich.new_version_of(job) is None
    assert datasets.get_dataset(analyst, dataset_id).current_version == 1
    saved = enrich.save_results_so_far(analyst, job_id)
    assert saved.new_version == 2 and "New version 2" in saved.message
    frame = _frame(analyst, dataset_id)
    got = int(frame["category_2"].notna().sum())
    done = jobs.progress(analyst, job_id).done
    assert 1 <= got < 5 and got >= done
    with pytest.raises(Exception, match="already version 2"):
        enrich.save_results_so_far(analyst, job_id)


def test_the_version_is_made_when_an_interrupted_job_is_run_again(
        claude_at_fake: FakeClaude, analyst: UserView, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    _script(claude_at_fake)
    dataset_id = _dataset(analyst, tmp_path)

    class Nobody:
        def submit(self, job_id: int) -> None:  # the app stopped before it could run
            return None

        def is_active(self, job_id: int) -> bool:
            return False

    monkeypatch.setattr(runner, "_runner", Nobody())
    outcome = enrich.start_enrichment(analyst, _request(_template(analyst), dataset_id))
    assert outcome.job is not None
    runner.execute_job(outcome.job.id, "other-host:1")  # another process picks it up
    job = jobs.get_job(analyst, outcome.job.id)
    assert job.status == "done" and enrich.new_version_of(job) == 2


def test_a_version_made_meanwhile_is_kept_and_said(claude_at_fake: FakeClaude,
                                                   analyst: UserView, tmp_path: Path) -> None:
    _script(claude_at_fake, delay=0.4)
    dataset_id = _dataset(analyst, tmp_path)
    outcome = enrich.start_enrichment(analyst, _request(_template(analyst), dataset_id))
    assert outcome.job is not None
    datasets.apply_steps(analyst, dataset_id, [RenameColumn(column="id", new_name="number")])
    _wait(outcome.job.id)
    job = jobs.get_job(analyst, outcome.job.id)
    assert "based on version 1, which the enrichment read" in job.message
    assert enrich.new_version_of(job) == 3
    assert "id" in _frame(analyst, dataset_id).columns  # based on version 1


@pytest.mark.parametrize(("change", "rows", "message"), [
    ({"output_fields": []}, {}, "no output shape"),
    ({"body": "Classify {colour}"}, {}, r"Pick the column that fills \{colour\}"),
    ({"body": "Classify all of this"}, {}, "reads no columns"),
    ({}, {"mode": "filter", "filter_column": "comment", "filter_text": "zebra"}, "No rows"),
])
def test_bad_input_is_refused_and_changes_nothing(
        claude_at_fake: FakeClaude, analyst: UserView, tmp_path: Path,
        change: dict[str, Any], rows: dict[str, Any], message: str) -> None:
    dataset_id = _dataset(analyst, tmp_path)
    request = _request(_template(analyst, **change), dataset_id, **rows)
    with pytest.raises(InvalidInput, match=message):
        enrich.plan_enrichment(analyst, request)
    with pytest.raises(InvalidInput, match=message):
        enrich.start_enrichment(analyst, request)
    assert claude_at_fake.requests == [] and jobs.list_jobs(analyst) == []
    assert datasets.get_dataset(analyst, dataset_id).current_version == 1


def test_a_column_of_empty_strings_sends_nothing(claude_at_fake: FakeClaude, analyst: UserView,
                                                 tmp_path: Path) -> None:
    frame = pd.DataFrame({"comment": ["", " ", ""], "note": ["a", "b", "c"]})
    dataset_id = _dataset(analyst, tmp_path, frame)
    with pytest.raises(InvalidInput, match="Every chosen row is empty in “comment”"):
        enrich.start_enrichment(analyst, _request(_template(analyst), dataset_id))
    assert claude_at_fake.requests == [] and jobs.list_jobs(analyst) == []


def test_an_unknown_column_in_the_mapping_is_refused(claude_at_fake: FakeClaude,
                                                     analyst: UserView, tmp_path: Path) -> None:
    dataset_id = _dataset(analyst, tmp_path)
    request = _request(_template(analyst), dataset_id)
    request.inputs = {"comment": "nope"}
    with pytest.raises(InvalidInput, match="no column “nope”"):
        enrich.plan_enrichment(analyst, request)


def test_an_enrichment_through_the_message_batches_api_makes_the_same_version(
        claude_at_fake: FakeClaude, analyst: UserView, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(message_batches, "POLL_S", 0.05)
    claude_at_fake.set_batch_seconds(0.2)
    _script(claude_at_fake)
    dataset_id = _dataset(analyst, tmp_path)
    request = _request(_template(analyst), dataset_id).model_copy(
        update={"use_message_batches": True})
    outcome = enrich.start_enrichment(analyst, request)
    assert outcome.job is not None
    full_price = enrich.plan_enrichment(
        analyst, request.model_copy(update={"use_message_batches": False})).cost
    assert full_price is not None and outcome.job.estimated_cost == pytest.approx(
        (full_price.max_cost or 0.0) / 2)
    _wait(outcome.job.id)
    job = jobs.get_job(analyst, outcome.job.id)
    assert job.status == "done" and job.kind == "enrich" and enrich.new_version_of(job) == 2
    assert claude_at_fake.message_requests == []  # every call went in the one batch
    (batch,) = claude_at_fake.batches.values()
    assert len(batch["requests"]) == 4 and job.external_id == batch["id"]
    frame = _frame(analyst, dataset_id)
    expected = _expected(COMMENTS)
    for name in expected.columns:
        got = [None if pd.isna(v) else v for v in frame[name]]
        assert got == [None if pd.isna(v) else v for v in expected[name]], name
    with session_scope() as session:
        runs = list(session.execute(select(Run.feature, Run.cost_estimate)
                                    .where(Run.username == "ann")))
    assert [f for f, _ in runs] == ["prompt.enrich"] * 4
    # re-applying reuses what the batch returned: only the row that failed is sent again
    same = enrich.plan_enrichment(analyst, request.model_copy(
        update={"rows": RowSelection(dataset_id=dataset_id, version=1)}))
    assert (same.reused, same.calls) == (4, 1)
