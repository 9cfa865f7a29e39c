"""AppTest: the Prompt lab for each role, making a template, preview and a single run on an
item, a batch that runs in the background with progress and results, and bad input."""

import time
from collections.abc import Iterator

import pytest
from streamlit.testing.v1 import AppTest

from services import settings
from services.access.permissions import Role
from services.access.users import UserView
from services.claude import client as claude
from services.prompts import batches, item_runs, jobs, runner, templates
from services.prompts.templates import TemplateDraft
from services.research import items
from services.research import items as research_items
from services.research.items import ItemInput
from tests.app.helpers import all_text, button, open_page, sign_in
from tests.factories import make_admin, make_item, make_user
from tests.fakes.claude_server import FakeClaude, point_claude_at

PAGE = "pages/prompt_lab.py"


@pytest.fixture
def admin() -> UserView:
    ada = make_admin()
    for n in range(3):
        make_item(ada, f"Question {n}", f"Why does thing {n} happen?")
    return ada


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeClaude]:
    monkeypatch.setattr(runner, "_runner", runner.ThreadRunner())
    with FakeClaude() as server:
        point_claude_at(server, monkeypatch, max_retries=1)
        yield server
    settings.reset_settings_cache()
    claude.reset_clients()


def _lab(username: str = "ada", tab: str = "Templates") -> AppTest:
    at = sign_in(username)
    at.session_state["lab_tab"] = tab
    at = open_page(at, PAGE)
    assert not at.exception, at.exception
    return at


def _template(admin: UserView) -> templates.TemplateView:
    return templates.create_template(admin, TemplateDraft(
        name="Why", body="Explain {title}: {description}", model="claude-haiku-4-5",
        max_tokens=100))


def test_without_a_key_the_lab_explains_and_still_shows_templates(admin: UserView) -> None:
    _template(admin)
    at = _lab()
    text = all_text(at)
    assert "Claude is not set up yet" in text
    assert [t.label for t in at.tabs] == ["Templates", "Run on an item", "Batch runs",
                                          "Enrich a dataset", "Compare models"]
    assert button(_lab(tab="Run on an item"), "Run on this item").disabled


def test_viewers_cannot_open_the_lab(admin: UserView) -> None:
    make_user(admin, "vic", Role.VIEWER)
    at = _lab("vic")
    assert "This page is not available to you" in all_text(at)


def test_making_a_template_and_a_bad_one(admin: UserView) -> None:
    at = _lab()
    next(t for t in at.text_input if t.label == "Name").input("Summary")
    next(t for t in at.text_area if t.label == "Prompt").input("Summarise {titel}")
    button(at, "Create template").click().run()
    assert not at.exception
    made = templates.list_templates(admin)
    assert [t.name for t in made] == ["Summary"]  # unknown variables are checked when run
    at = _lab()
    next(t for t in at.text_input if t.label == "Name").input("Empty")
    button(at, "Create template").click().run()
    assert "The template is empty" in all_text(at)
    assert len(templates.list_templates(admin)) == 1


def test_preview_and_a_single_run_on_an_item(admin: UserView, fake: FakeClaude) -> None:
    fake.script([{"text": "Because of reasons."}])
    template = _template(admin)
    at = _lab(tab="Run on an item")
    button(at, "Preview").click().run()
    assert not at.exception, at.exception
    shown = next(t for t in at.text_area if t.label == "The prompt Claude will get")
    assert shown.value.startswith("Explain Question")
    assert "counted by Claude's API" in all_text(at)
    button(at, "Run on this item").click().run()
    assert not at.exception, at.exception
    item_id = at.selectbox(key="lab_run_item").value
    runs = item_runs.runs_for_item(admin, item_id)
    assert runs and runs[0].output == "Because of reasons." and runs[0].template_id == template.id
    assert "Saved on the item" in all_text(at)


def test_run_on_this_item_is_offered_only_on_items_one_may_change(admin: UserView) -> None:
    _template(admin)
    bob = make_user(admin, "bob")
    make_item(bob, "Bob's own")
    shared = items.create_item(admin, ItemInput(title="Ada's shared", visibility="shared"))
    at = _lab("bob", tab="Run on an item")
    at.selectbox(key="lab_run_item").select(shared.id).run()
    assert not at.exception, at.exception
    assert not [b for b in at.button if b.label == "Run on this item"]
    assert "Only the item's owner or an admin can run a template on it." in all_text(at)
    assert button(at, "Preview")  # reading it is still fine
    own = next(i.id for i in research_items.list_items(bob) if i.title == "Bob's own")
    at.selectbox(key="lab_run_item").select(own).run()
    assert button(at, "Run on this item")


def test_a_batch_runs_in_the_background_and_shows_its_results(admin: UserView,
                                                              fake: FakeClaude) -> None:
    fake.script([{"text": "An answer."}])
    _template(admin)
    at = _lab(tab="Batch runs")
    at.checkbox(key="lab_batch_all").check().run()
    button(at, "Estimate cost").click().run()
    assert not at.exception, at.exception
    assert "3 calls" in all_text(at)
    button(at, "Start batch").click().run()
    assert not at.exception, at.exception
    job = jobs.list_jobs(admin)[0]
    active = runner.get_runner()
    assert isinstance(active, runner.ThreadRunner) and active.wait(job.id, timeout=30)
    at = _lab(tab="Batch runs")  # leave and come back: the batch is there, finished
    text = all_text(at)
    assert "finished" in text and "3 succeeded" in text
    results = next(d.value for d in at.dataframe if "Answer" in d.value.columns)
    assert list(results["Answer"]) == ["An answer."] * 3
    assert any(b.label == "Download CSV" for b in at.get("download_button"))


def test_a_batch_of_nothing_is_refused(admin: UserView, fake: FakeClaude) -> None:
    _template(admin)
    at = _lab(tab="Batch runs")
    button(at, "Estimate cost").click().run()
    assert "nothing to run" in all_text(at)
    assert jobs.list_jobs(admin) == []


def test_an_interrupted_batch_offers_resume(admin: UserView, fake: FakeClaude,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    template = _template(admin)
    items = research_items.list_items(admin)
    from services.prompts.sources import item_inputs
    job = jobs.create_job("ada", kind="batch", title="Old batch", template_id=template.id,
                          template_version=1, model="claude-haiku-4-5", concurrency=2,
                          source={}, units=item_inputs(admin, [i.id for i in items]),
                          estimated_cost=0)
    assert jobs.claim(job.id, "elsewhere:999999999") is not None  # a runner on another host
    monkeypatch.setenv("RESEARCH_DESK_JOB_STALE_S", "0.001")
    settings.reset_settings_cache()
    time.sleep(0.01)
    at = _lab(tab="Batch runs")
    assert "interrupted" in all_text(at) and "carries on by itself" in all_text(at)
    button(at, "Resume batch").click().run()
    assert not at.exception, at.exception
    active = runner.get_runner()
    assert isinstance(active, runner.ThreadRunner) and active.wait(job.id, timeout=30)
    assert jobs.progress(admin, job.id).done == 3


def test_a_batch_that_finishes_while_shown_has_its_results_read_again(
        admin: UserView, fake: FakeClaude, monkeypatch: pytest.MonkeyPatch) -> None:
    """After "Retry failed" the page shows the batch running, its retried unit pending; the
    progress panel alone refreshes. When the panel sees the batch finished, the whole page
    must run again, or the results table and its CSV keep the unit as pending."""
    fake.script([{"text": "An answer."}])
    template = _template(admin)
    job = batches.start_batch(admin, batches.BatchRequest(
        template_id=template.id, item_ids=[i.id for i in research_items.list_items(admin)]))
    active = runner.get_runner()
    assert isinstance(active, runner.ThreadRunner) and active.wait(job.id, timeout=30)
    real_jobs, real_units = jobs.list_jobs, jobs.list_units
    # The page's first run reads the store as it was while the retry ran (the batch running,
    # its first unit pending); the progress panel reads it as it is now (finished).
    runs = {"jobs": 0, "stale": False}

    def jobs_read(actor: UserView, **kwargs: object) -> list[jobs.JobView]:
        found = real_jobs(actor, **kwargs)  # type: ignore[arg-type]
        runs["jobs"] += 1
        runs["stale"] = runs["jobs"] == 1
        if runs["stale"]:
            return [j.model_copy(update={"status": "running"}) for j in found]
        return found

    def units_read(actor: UserView, job_id: int, **kwargs: object) -> list[jobs.UnitView]:
        found = real_units(actor, job_id, **kwargs)  # type: ignore[arg-type]
        if runs["stale"]:
            return [found[0].model_copy(update={"status": "pending", "output": None}),
                    *found[1:]]
        return found

    at = sign_in("ada")
    at.session_state["lab_tab"] = "Batch runs"
    monkeypatch.setattr(jobs, "list_jobs", jobs_read)
    monkeypatch.setattr(jobs, "list_units", units_read)
    at = open_page(at, PAGE)
    assert not at.exception, at.exception
    results = next(d.value for d in at.dataframe if "Answer" in d.value.columns)
    assert list(results["Status"]) == ["succeeded"] * 3
    assert list(results["Answer"]) == ["An answer."] * 3
