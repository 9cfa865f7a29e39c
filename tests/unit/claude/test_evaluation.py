"""`make eval`: the comparison rules, the question files, the gold results, and the harness
through the real Ask path against the fake Messages API (scripted: gold, wrong, refused)."""

import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from services import cli
from services.claude import eval_run, evaluation, usage
from services.claude.eval_compare import compare
from services.claude.eval_questions import (
    DEFAULT_QUESTIONS,
    EvalQuestion,
    QuestionSet,
    load_questions,
)
from services.claude.usage import BudgetChange
from services.data.samples import SAMPLES_DIR
from services.errors import InvalidInput, PermissionDenied
from services.settings import get_settings, reset_settings_cache
from services.store.db import dispose_engines
from tests.factories import make_admin, make_user
from tests.fakes.claude_server import FakeClaude

ROOT = Path(__file__).resolve().parents[3]


def frame(**columns: list) -> pd.DataFrame:
    return pd.DataFrame(columns)


# --- comparison rules ------------------------------------------------------------------------

GOLD_BY_DAY = frame(day=["Thur", "Fri", "Sat", "Sun"], tip=[2.771452, 2.734737, 2.993103, 3.255132])


def test_rows_in_any_order_and_other_column_names_are_right() -> None:
    shuffled = frame(d=["Sun", "Sat", "Thur", "Fri"], avg=[3.255132, 2.993103, 2.771452, 2.734737])
    assert compare(shuffled, GOLD_BY_DAY).right


def test_order_counts_only_when_the_question_asks_for_one() -> None:
    ranked = GOLD_BY_DAY.sort_values("tip", ascending=False)
    assert compare(ranked, GOLD_BY_DAY.sort_values("tip", ascending=False), ordered=True).right
    verdict = compare(GOLD_BY_DAY, ranked, ordered=True)
    assert not verdict.right and "order" in verdict.reason


def test_rounding_a_person_would_use_is_right_but_a_wrong_count_is_wrong() -> None:
    rounded = frame(day=["Thur", "Fri", "Sat", "Sun"], tip=[2.77, 2.73, 2.99, 3.26])
    assert compare(rounded, GOLD_BY_DAY).right
    assert compare(frame(n=[3.0]), frame(n=[2.998279])).right
    assert compare(frame(total=[4828]), frame(total=[4827.77])).right
    assert not compare(frame(n=[121]), frame(n=[120])).right  # a count is exact
    assert not compare(frame(n=[3.1]), frame(n=[2.998279])).right


def test_a_wrong_result_is_caught_with_a_reason() -> None:
    wrong = frame(day=["Thur", "Fri", "Sat", "Sun"], tip=[171.83, 51.96, 260.40, 247.39])
    verdict = compare(wrong, GOLD_BY_DAY)
    assert not verdict.right and verdict.reason
    assert not compare(GOLD_BY_DAY.head(3), GOLD_BY_DAY).right  # a row missing
    assert not compare(None, GOLD_BY_DAY).right


def test_extra_columns_are_fine_but_a_missing_gold_column_is_not() -> None:
    with_count = frame(day=["Sat"], bills=[87])
    assert compare(with_count, frame(day=["Sat"])).right
    assert not compare(frame(day=["Sat"]), with_count).right


def test_dates_text_months_years_and_empty_values_compare_by_meaning() -> None:
    gold = frame(month=[pd.Timestamp("2014-01-01"), pd.Timestamp("2014-02-01")], rain=[1.5, None])
    text = frame(m=["2014-01", "2014-02"], r=[1.5, float("nan")])
    assert compare(text, gold).right
    assert compare(frame(y=["2012"], d=[dt.date(2012, 1, 1)]),
                   frame(y=[2012], d=[pd.Timestamp("2012-01-01")])).right
    assert compare(frame(s=[" gentoo "]), frame(s=["Gentoo"])).right
    assert not compare(frame(b=[1.0]), frame(b=[True])).right
    assert compare(frame(m=["February"], y=[pd.Timestamp("2015-01-01")]),
                   frame(m=[2], y=[2015])).right
    assert compare(frame(m=["nov"]), frame(m=[11])).right
    assert not compare(frame(m=["March"]), frame(m=[2])).right
    assert not compare(frame(y=[pd.Timestamp("2015-03-01")]), frame(y=[2015])).right


# --- question files ----------------------------------------------------------------------------

def test_the_shipped_set_has_every_kind_of_question() -> None:
    shipped = load_questions()
    assert len(shipped.questions) >= 40
    kinds = {q.kind for q in shipped.questions}
    assert {"lookup", "group-by", "time", "ranking", "filter", "ambiguous"} <= kinds
    assert all(q.note and q.also for q in shipped.questions if q.kind == "ambiguous")
    assert set(shipped.datasets) == {"penguins", "seattle_weather", "tips"}


def test_a_teams_own_file_with_its_own_dataset_loads(tmp_path: Path) -> None:
    (tmp_path / "sales.csv").write_text("region,amount\nNorth,120\nSouth,80\nNorth,40\n")
    path = tmp_path / "ours.yaml"
    path.write_text("datasets:\n  sales: {file: sales.csv}\n"
                    "questions:\n  - id: north\n    question: What did North sell?\n"
                    "    datasets: [sales]\n"
                    "    sql: SELECT sum(amount) FROM sales WHERE region = 'North'\n")
    ours = load_questions(path)
    assert ours.file_of("sales") == (tmp_path / "sales.csv").resolve()
    assert ours.questions[0].golds == ["SELECT sum(amount) FROM sales WHERE region = 'North'"]


@pytest.mark.parametrize(("text", "said"), [
    ("datasets: [unclosed\n", "is not valid YAML near line"),
    ("- just a list\n", "needs a “datasets” and a “questions” section"),
    ("datasets:\n  tips: {sample: tips}\nquestions:\n  - id: a\n    question: Q?\n"
     "    datasets: [tips]\n", "questions → 1 → sql: field required"),
    ("datasets:\n  tips: {sample: nope}\nquestions:\n  - id: a\n    question: Q?\n"
     "    datasets: [tips]\n    sql: SELECT 1\n", "no sample dataset called “nope”"),
    ("datasets:\n  tips: {sample: tips}\nquestions:\n  - id: a\n    question: Q?\n"
     "    datasets: [sales]\n    sql: SELECT 1\n", "not listed under datasets: “sales”"),
    ("datasets:\n  Big Sales: {file: x.csv}\nquestions: []\n", "at least 1 item"),
    ("datasets:\n  sales: {file: missing.csv}\nquestions:\n  - id: a\n    question: Q?\n"
     "    datasets: [sales]\n    sql: SELECT 1\n", "(missing.csv) was not found"),
])
def test_a_bad_file_is_refused_in_one_sentence(tmp_path: Path, text: str, said: str) -> None:
    path = tmp_path / "ours.yaml"
    path.write_text(text)
    with pytest.raises(InvalidInput) as refused:
        load_questions(path)
    message = str(refused.value)
    assert said in message and message.startswith("The question file ours.yaml") or \
        message.startswith("In ours.yaml")
    assert message.count("\n") == 0 and message.endswith(".")


# --- gold results ------------------------------------------------------------------------------

def test_gold_results_agree_with_pandas() -> None:
    shipped = load_questions()
    wanted = ["tips-average-tip-by-day", "penguins-missing-sex", "weather-rain-by-year",
              "tips-top-5-tips"]
    picked = shipped.model_copy(update={"questions": [
        q for q in shipped.questions if q.id in wanted]})
    files = {name: _parquet(shipped.file_of(name), tmp_name=name) for name in shipped.datasets}
    golds = evaluation.gold_results(picked, files)
    tips = pd.read_csv(SAMPLES_DIR / "tips.csv")
    penguins = pd.read_csv(SAMPLES_DIR / "penguins.csv")
    weather = pd.read_csv(SAMPLES_DIR / "seattle-weather.csv", parse_dates=["date"])
    by_day = tips.groupby("day", as_index=False)["tip"].mean()
    assert compare(golds["tips-average-tip-by-day"][0], by_day).right
    assert golds["penguins-missing-sex"][0].iloc[0, 0] == penguins["sex"].isna().sum() == 11
    yearly = weather.groupby(weather["date"].dt.year)["precipitation"].sum().reset_index()
    assert compare(golds["weather-rain-by-year"][0], yearly).right
    top = tips["tip"].sort_values(ascending=False).head(5).to_frame()
    assert compare(golds["tips-top-5-tips"][0], top, ordered=True).right


def _parquet(path: Path, *, tmp_name: str) -> Path:
    """The sample as Parquet (outside the data folder), as the sandbox reads datasets."""
    target = Path(os.environ["RESEARCH_DESK_DATA_DIR"]).parent / f"{tmp_name}.parquet"
    if path.suffix == ".json":
        pd.read_json(path).to_parquet(target)
    else:
        read = pd.read_csv(path)
        if "date" in read:
            read["date"] = pd.to_datetime(read["date"]).dt.date
        read.to_parquet(target)
    return target


def test_a_gold_query_that_does_not_run_is_said_before_any_claude_call(tmp_path: Path) -> None:
    broken = QuestionSet(datasets=load_questions().datasets, questions=[EvalQuestion(
        id="broken", question="Q?", datasets=["tips"], sql="SELECT no_such_column FROM tips")])
    files = {"tips": _parquet(SAMPLES_DIR / "tips.csv", tmp_name="tips")}
    with pytest.raises(InvalidInput, match="The gold SQL of question “broken” does not run"):
        evaluation.gold_results(broken, files)


# --- the harness through Ask, against the fake --------------------------------------------------

MIX = ["tips-count", "tips-average-tip-by-day", "penguins-by-species", "weather-rain-by-year",
       "tips-top-5-tips", "penguins-heaviest", "weather-snow-days", "tips-lunch-average"]


def _mix() -> QuestionSet:
    shipped = load_questions()
    return shipped.model_copy(update={"questions": [q for q in shipped.questions
                                                    if q.id in MIX]})


def test_the_harness_reports_the_right_accuracy_for_a_scripted_mix(
        claude_at_fake: FakeClaude) -> None:
    questions = _mix()
    by_id = {q.id: q for q in questions.questions}
    answers = {q.question: q.sql for q in questions.questions}
    # two wrong (a different number; the right rows in the wrong order), two refused
    answers[by_id["penguins-heaviest"].question] = "SELECT min(body_mass_g) FROM penguins"
    answers[by_id["tips-top-5-tips"].question] = "SELECT tip FROM tips ORDER BY tip LIMIT 5"
    answers[by_id["weather-snow-days"].question] = "DELETE FROM seattle_weather"
    answers[by_id["tips-lunch-average"].question] = (
        "SELECT * FROM read_csv('/etc/passwd')")
    # one written answer invents a number the result does not hold: a grounded-answer flag
    texts = {by_id["tips-count"].question: "There are 244 bills, about 17 a day on average."}
    claude_at_fake.answer_questions(answers, texts)
    admin = make_admin()
    ids = evaluation.load_datasets(admin, questions)
    report = evaluation.evaluate(questions, ["claude-haiku-4-5"], actor=admin, dataset_ids=ids)
    verdicts = {o.id: o.verdict for o in report.outcomes}
    assert verdicts == {**dict.fromkeys(MIX, "right"), "penguins-heaviest": "wrong",
                        "tips-top-5-tips": "wrong", "weather-snow-days": "refused",
                        "tips-lunch-average": "refused"}
    score = report.scores[0]
    assert (score.asked, score.right, score.refused, score.unavailable) == (8, 4, 2, 0)
    assert score.accuracy == 0.5 and score.input_tokens > 0 and score.output_tokens > 0
    assert score.cost > 0 and score.latency_total_s > 0
    flags = {o.id: o.grounded_flags for o in report.outcomes}
    assert flags["tips-count"] == 1 and score.grounded_flags == 1
    assert flags["weather-snow-days"] is None  # no answer was written, none checked
    table = evaluation.plain_table(report)
    assert "4/8" in table and "50%" in table
    # a refused question tried the guard three times: the first query and two repairs
    planned = [r for r in claude_at_fake.message_requests if r["body"].get("tools")]
    assert len(planned) == 8 + 2 * 2


def test_the_run_stops_when_the_budget_is_spent(claude_at_fake: FakeClaude) -> None:
    questions = _mix()
    admin = make_admin()
    usage.set_budget(admin, BudgetChange(username=admin.username, monthly_cost=0.0))
    ids = evaluation.load_datasets(admin, questions)
    report = evaluation.evaluate(questions, ["claude-haiku-4-5"], actor=admin, dataset_ids=ids)
    assert report.outcomes == [] and "budget" in report.stopped
    assert claude_at_fake.message_requests == []


def test_a_model_claude_cannot_answer_stops_after_three_questions(
        claude_at_fake: FakeClaude) -> None:
    questions = _mix()
    claude_at_fake.fail_next(status=401, count=100)
    admin = make_admin()
    ids = evaluation.load_datasets(admin, questions)
    report = evaluation.evaluate(questions, ["claude-haiku-4-5"], actor=admin, dataset_ids=ids)
    assert [o.verdict for o in report.outcomes] == ["unavailable"] * 3
    assert report.scores[0].unavailable == 3 and "unavailable for 3 questions" in report.stopped


def test_the_report_is_written_and_only_admins_read_the_latest(tmp_path: Path) -> None:
    admin = make_admin()
    analyst = make_user(admin, "ann")
    wrong = evaluation.QuestionOutcome(id="a", model="claude-haiku-4-5", kind="lookup",
                                       verdict="wrong", reason="No.")
    report = evaluation.EvalReport(questions_file="q.yaml", against="the Claude API",
                                   scores=[evaluation.score("claude-haiku-4-5", [wrong])],
                                   outcomes=[wrong])
    written = evaluation.write_report(report, tmp_path)
    assert written.is_file() and (tmp_path / "latest.md").read_text().count("| claude-") == 2
    assert evaluation.latest_report(admin, tmp_path) == report
    assert evaluation.latest_report(admin, tmp_path / "none") is None
    with pytest.raises(PermissionDenied):
        evaluation.latest_report(analyst, tmp_path)


def test_a_run_with_a_key_says_it_costs_money_before_it_starts(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-real-looking")
    reset_settings_cache()
    options = eval_run.EvalOptions(models=["claude-haiku-4-5", "claude-sonnet-4-6"], limit=10,
                                   budget_usd=2.5)
    said = eval_run.announcement(options, load_questions())
    assert not eval_run.is_rehearsal(options)
    assert "real Claude API 10 questions with 2 model(s)" in said and "costs money" in said
    assert "$2.50" in said
    assert eval_run.is_rehearsal(options.model_copy(update={"rehearse": True}))


def test_the_throwaway_workspace_never_opens_the_teams_store(
        monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> None:
    monkeypatch.setenv("RESEARCH_DESK_DATABASE_URL", "postgresql://team@db.example/rd")
    with evaluation.throwaway_workspace() as folder:
        settings = get_settings()
        assert settings.database_url is None and settings.data_dir.is_relative_to(folder)
    assert os.environ["RESEARCH_DESK_DATABASE_URL"] == "postgresql://team@db.example/rd"
    assert os.environ["RESEARCH_DESK_DATA_DIR"] == str(data_dir) and not folder.exists()


# --- `make eval`'s command, end to end ----------------------------------------------------------

def _eval_cli(*args: str) -> subprocess.CompletedProcess:
    """`make eval`'s command in a child process, as an operator runs it (no key set)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL")}
    dispose_engines()
    return subprocess.run([sys.executable, "-m", "services.cli", "eval", *args], cwd=ROOT,
                          env=env, text=True, capture_output=True, timeout=180)


def test_make_eval_runs_end_to_end_against_the_stand_in(tmp_path: Path,
                                                        data_dir: Path) -> None:
    started = time.perf_counter()
    done = _eval_cli("--limit", "5", "--out", str(tmp_path / "reports"))
    took = time.perf_counter() - started
    assert done.returncode == 0, done.stderr
    assert "rehearsal" in done.stdout and "5/5" in done.stdout and "100%" in done.stdout
    latest = evaluation.EvalReport.model_validate_json(
        (tmp_path / "reports" / "latest.json").read_text())
    assert latest.rehearsal and len(latest.outcomes) == 5
    assert not (data_dir / "datasets").exists()  # the team's data folder is left alone
    print(f"make eval, 5 questions against the stand-in: {took:.1f} s")


def test_the_eval_command_says_what_is_wrong_with_a_bad_file(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "ours.yaml"
    bad.write_text("datasets: [unclosed\n")
    assert cli.main(["eval", "--questions", str(bad)]) == 1
    said = capsys.readouterr()
    assert said.err.strip() == "The question file ours.yaml is not valid YAML near line 2."
    assert said.out == ""


def test_the_default_question_file_is_the_shipped_one() -> None:
    assert DEFAULT_QUESTIONS == ROOT / "evals" / "questions.yaml"


def test_the_eval_command_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as ended:
        cli.main(["eval", "--help"])
    assert ended.value.code == 0
    said = capsys.readouterr().out
    assert "--model" in said and "--questions" in said and "costs money" in said


def test_the_readme_example_file_loads_and_its_sql_runs(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Evaluating Ask", 1)[1].split("\n## ", 1)[0]
    example = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "our-questions.yaml").write_text(example)
    (tmp_path / "sales.csv").write_text("region,amount\nNorth,120\nSouth,80\nNorth,40\n")
    ours = load_questions(tmp_path / "our-questions.yaml")
    parquet = tmp_path / "sales.parquet"
    pd.read_csv(tmp_path / "sales.csv").to_parquet(parquet)
    golds = evaluation.gold_results(ours, {"sales": parquet})
    assert golds["north-total"][0].iloc[0, 0] == 160
    assert list(golds["top-regions"][0].iloc[:, 0]) == ["North", "South"]
