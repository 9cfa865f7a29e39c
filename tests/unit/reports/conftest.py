"""A research item about the penguins, with an Explore chart and an Ask answer on it."""

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from services.access.users import UserView
from services.charts.aggregate import aggregate
from services.charts.spec import ChartSpec
from services.data import datasets
from services.reports.insight_figure import explore_insight_spec
from services.research import items, notes
from services.research import saved_insights as research
from services.research.items import ItemInput
from services.research.notes import NoteSave
from services.research.saved_insights import NewInsight
from tests.factories import make_admin, make_user

PENGUINS = Path(__file__).resolve().parents[2] / "data" / "penguins.csv"
ANSWER_SQL = ("SELECT species, COUNT(*) AS penguins, AVG(body_mass_g) AS mean_mass\n"
              "FROM penguins\nGROUP BY species\nORDER BY species")


class Story:
    def __init__(self, owner: UserView, item_id: int, dataset_id: int, chart: pd.DataFrame,
                 answer: pd.DataFrame) -> None:
        self.owner, self.item_id, self.dataset_id = owner, item_id, dataset_id
        self.chart, self.answer = chart, answer


def save_chart(owner: UserView, item_id: int, dataset_id: int, spec: ChartSpec,
               title: str) -> pd.DataFrame:
    version = datasets.get_version(owner, dataset_id)
    data = aggregate(Path(version.parquet_path), spec)
    frame = data.display_frame()
    research.save_insight(owner, NewInsight(
        item_id=item_id, kind="chart", title=title, summary=f"{title}, as a chart.",
        spec=explore_insight_spec(spec, data, len(frame)), dataset_id=dataset_id,
        dataset_version=version.version), frame)
    return frame


@pytest.fixture
def story() -> Story:
    ana = make_user(make_admin(), "ana")
    dataset, _ = datasets.create_from_upload(ana, PENGUINS, original_name="penguins.csv")
    item = items.create_item(ana, ItemInput(title="Penguin bills <b>by</b> species",
                                            description="Do bills differ?", tags=["birds"],
                                            visibility="shared"))
    notes.save_notes(ana, item.id, NoteSave(
        text="# Findings\n\nGentoo bills are **longest**.\n\n<script>alert(1)</script>\n"
             "[bad](javascript:alert(2)) and [good](https://allisonhorst.github.io/"
             "palmerpenguins/)", base_version=0))
    chart = save_chart(ana, item.id, dataset.id, ChartSpec(
        chart_type="bar", x="species", y="bill_length_mm", agg="mean"),
        "Mean bill length by species")
    version = datasets.get_version(ana, dataset.id)
    answer = duckdb.sql(ANSWER_SQL.replace(
        "FROM penguins", f"FROM read_parquet('{version.parquet_path}')")).df()
    research.save_insight(ana, NewInsight(
        item_id=item.id, kind="answer", title="How heavy is each species?",
        summary="Gentoo penguins are the heaviest.",
        spec={"question": "How heavy is each species?", "sql": ANSWER_SQL,
              "chart": ChartSpec(chart_type="bar", x="species", y="mean_mass",
                                 agg="mean").model_dump(),
              "tables": {"penguins": "penguins"}, "row_count": 3},
        dataset_id=dataset.id), answer)
    return Story(ana, item.id, dataset.id, chart, answer)
