"""An installation with something in every kind of table, and how to read all of it back:
the backup and restore tests make one, move it, and compare table by table."""

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import select

from services.access.users import UserView
from services.data import dataset_files, datasets
from services.data.dataset_models import Impute
from services.ops import table_dump
from services.prompts import templates
from services.prompts.templates import OutputField, TemplateDraft
from services.research import items, notes
from services.research import saved_insights as research
from services.research.items import ItemInput
from services.research.notes import NoteSave
from services.research.saved_insights import NewInsight
from services.settings import reset_settings_cache
from services.store.db import dispose_engines, get_engine, session_scope
from services.store.models import ItemRun, Job, JobUnit, Run, utcnow
from tests.factories import make_admin, make_user

BACKUP_ACTIONS = ("backup_made", "backup_restored")


def make_installation(tmp_path: Path) -> UserView:
    """Users, an item with notes and insights, a dataset with two versions, a prompt
    template and a finished batch with its results and usage."""
    ana = make_user(make_admin(), "ana")
    source = tmp_path / "tips.csv"
    source.write_text("day,total,tip\nSun,16.99,1.01\nSat,,3.5\nSun,21.01,3.5\n", "utf-8")
    dataset, _ = datasets.create_from_upload(ana, source, original_name="tips.csv")
    datasets.apply_steps(ana, dataset.id, [Impute(column="total", method="constant", value=0)])
    item = items.create_item(ana, ItemInput(title="Tips study", tags=["food", "tips"]))
    notes.save_notes(ana, item.id, NoteSave(text="Sundays tip less.", base_version=0))
    research.save_insight(ana, NewInsight(
        item_id=item.id, kind="chart", title="Tips by day", dataset_id=dataset.id,
        dataset_version=2, spec={"chart_type": "bar", "x": "day", "y": "tip"}),
        pd.DataFrame({"day": ["Sun", "Sat"], "tip": [2.26, 3.5]}))
    template = templates.create_template(ana, TemplateDraft(
        name="Summarise", body="Summarise {title}.", model="claude-haiku-4-5",
        output_fields=[OutputField(name="mood", type="category", choices=["calm", "tense"])]))
    _finished_batch(ana, item.id, template.id)
    return ana


def _finished_batch(ana: UserView, item_id: int, template_id: int) -> None:
    now = utcnow()
    with session_scope(write=True) as session:
        job = Job(kind="batch", owner=ana.username, title="Summaries", template_id=template_id,
                  template_version=1, model="claude-haiku-4-5", status="done",
                  source={"item_ids": [item_id]}, total_units=1, estimated_cost=0.01,
                  created_at=now, started_at=now, finished_at=now, message="1 done.")
        session.add(job)
        session.flush()
        session.add(JobUnit(job_id=job.id, unit_key=f"item:{item_id}", position=0,
                            label="Tips study", inputs={"title": "Tips study"}, status="done",
                            output="A calm study.", fields={"mood": "calm"}, input_tokens=12,
                            output_tokens=5, cost_estimate=0.00125, latency_ms=81.5,
                            attempts=1, started_at=now, finished_at=now))
        session.add(ItemRun(item_id=item_id, template_id=template_id, template_version=1,
                            job_id=job.id, model="claude-haiku-4-5", status="ok",
                            prompt="Summarise Tips study.", output="A calm study.",
                            fields={"mood": "calm"}, created_by=ana.username, created_at=now))
        session.add(Run(username=ana.username, feature="prompt_batch", model="claude-haiku-4-5",
                        status="ok", input_tokens=12, output_tokens=5, cost_estimate=0.00125,
                        latency_ms=81.5, created_at=now))


def everything() -> dict[str, list[dict[str, Any]]]:
    """Every row of every table (the backup's own audit entries left out), in key order."""
    found = {}
    with get_engine().connect() as connection:
        for table in table_dump.tables():
            rows = connection.execute(select(table).order_by(*table.primary_key.columns))
            found[table.name] = [dict(r._mapping) for r in rows
                                 if table.name != "audit_log" or r.action not in BACKUP_ACTIONS]
    return found


def dataset_rows(person: UserView) -> dict[tuple[int, int], list[dict[str, Any]]]:
    """Every version's rows, read from its file through the service."""
    def rows(path: Path) -> list[dict[str, Any]]:
        frame = dataset_files.preview(path).astype(object)
        return frame.where(frame.notna(), None).to_dict("records")  # NaN is never equal

    return {(d.id, v.version): rows(v.parquet_path)
            for d in datasets.list_datasets(person)
            for v in datasets.list_versions(person, d.id)}


def use_installation(monkeypatch: pytest.MonkeyPatch, data_dir: Path,
                     database_url: str | None = None) -> None:
    """Point this process at another installation (a data folder, and a database)."""
    dispose_engines()
    monkeypatch.setenv("RESEARCH_DESK_DATA_DIR", str(data_dir))
    if database_url:
        monkeypatch.setenv("RESEARCH_DESK_DATABASE_URL", database_url)
    else:
        monkeypatch.delenv("RESEARCH_DESK_DATABASE_URL", raising=False)
    reset_settings_cache()
