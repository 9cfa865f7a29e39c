"""B9: the Research pages with 10,000 items and 50,000 insights in the metadata store.

Items and insights are written straight into the store's DuckDB file (not timed), with ids
from the same sequences the app uses. Measured: the Research page rerun in AppTest (warm:
median of 7), a search through titles, descriptions, notes and tags (the service call, median
of 9), and an item page with 50 saved charts and answers (AppTest, warm: median of 5).
"""

import json
import random
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
from streamlit.testing.v1 import AppTest

from bench.apptest_timing import data_folder, median_run, signed_in, timed_run

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "bench-password-42"
ITEMS = 10_000
INSIGHTS = 50_000
BIG_ITEM_INSIGHTS = 50
PAGE_TARGET_S = 0.3
SEARCH_TARGET_S = 0.1
ITEM_TARGET_S = 0.5
WORDS = ("penguin", "weather", "sales", "churn", "growth", "region", "budget", "survey",
         "tips", "flights", "island", "species", "rain", "price", "margin", "team")


def _chart_spec(n: int) -> dict:
    return {"chart_type": "bar", "x": "species", "y": "body_mass_g", "agg": "mean",
            "filters": [], "bucket": None, "color": None, "facet": None, "top_n": None,
            "sort": None, "log_y": False,
            "drawn": {"labels": {"x": "species", "value": "Mean of body_mass_g", "rows": "Rows"},
                      "bin_widths": {}, "rows_in": 344, "marks": 3, "note": ""}}


def _snapshot(n: int) -> list[dict]:
    return [{"species": s, "Mean of body_mass_g": 3700.0 + 100 * i + n % 50, "Rows": 100 + i}
            for i, s in enumerate(("Adelie", "Chinstrap", "Gentoo"))]


def _answer_spec(n: int) -> dict:
    return {"question": f"How heavy is each species? ({n})",
            "sql": "SELECT species, AVG(body_mass_g) AS mass FROM penguins GROUP BY species",
            "chart": {"chart_type": "bar", "x": "species", "y": "mass", "agg": "mean"},
            "tables": {"penguins": "penguins"}, "row_count": 3}


def _answer_rows(n: int) -> list[dict]:
    return [{"species": s, "mass": 3700.0 + 90 * i + n % 40}
            for i, s in enumerate(("Adelie", "Chinstrap", "Gentoo"))]


def _fill(big_item_title: str) -> int:
    """10,000 items (a fifth of them ada's, half shared) and 50,000 insights; returns the
    id of ada's item with 50 insights."""
    from sqlalchemy import text

    from services.access import users
    from services.access.permissions import Role
    from services.access.users import NewUser
    from services.store.db import get_engine

    admin = users.create_first_admin(
        NewUser(username="ada", name="Ada", password=PASSWORD, role=Role.ADMIN))
    owners = [admin.username] + [f"user{n}" for n in range(1, 5)]
    rng = random.Random(9)
    now = pd.Timestamp("2026-01-01")
    rows = []
    for n in range(ITEMS):
        words = rng.sample(WORDS, 3)
        rows.append({
            "title": big_item_title if n == 0 else f"Why does {words[0]} change with "
                                                   f"{words[1]}? #{n}",
            "description": f"Looking at {words[2]} and {words[0]} across teams.",
            "status": rng.choice(("idea", "active", "done", "archived")),
            "tags": json.dumps(rng.sample(WORDS, 2)),
            "owner": owners[n % len(owners)] if n else admin.username,
            "visibility": "shared" if n % 2 else "private",
            "created_at": now + pd.Timedelta(minutes=n),
            "updated_at": now + pd.Timedelta(minutes=n),
            "notes": f"## Notes {n}\n\n- {words[1]} first\n- then {words[2]}\n" * 3,
        })
    items_frame = pd.DataFrame(rows)
    engine = get_engine()
    with engine.begin() as connection:
        duck = connection.connection.driver_connection
        duck.register("bench_items", items_frame)
        duck.execute("INSERT INTO research_items (id, title, description, status, tags, owner, "
                     "visibility, created_at, updated_at, notes, notes_version) SELECT "
                     "nextval('research_items_id_seq'), title, description, status, tags, "
                     "owner, visibility, created_at, updated_at, notes, 1 FROM bench_items")
        ids = [r[0] for r in connection.execute(text(
            "SELECT id FROM research_items ORDER BY id")).fetchall()]
        big_id = ids[0]
        insight_rows = []
        for n in range(INSIGHTS):
            item_id = big_id if n < BIG_ITEM_INSIGHTS else ids[1 + n % (len(ids) - 1)]
            is_chart = n % 2 == 0
            insight_rows.append({
                "item_id": item_id, "kind": "chart" if is_chart else "answer",
                "title": f"Mean body mass by species #{n}" if is_chart else
                f"How heavy is each species? ({n})",
                "summary": "Bar chart of mean of body_mass_g by species: Gentoo is highest."
                if is_chart else "Gentoo penguins are the heaviest.",
                "spec": json.dumps(_chart_spec(n) if is_chart else _answer_spec(n)),
                "data_snapshot": json.dumps(_snapshot(n) if is_chart else _answer_rows(n)),
                "created_by": "ada", "created_at": now, "position": n + 1,
            })
        duck.register("bench_insights", pd.DataFrame(insight_rows))
        duck.execute("INSERT INTO insights (id, item_id, kind, title, summary, spec, "
                     "data_snapshot, created_by, created_at, position) SELECT "
                     "nextval('insights_id_seq'), item_id, kind, title, summary, spec, "
                     "data_snapshot, created_by, created_at, position FROM bench_insights")
        duck.unregister("bench_items")
        duck.unregister("bench_insights")
    return int(big_id)


def _shows(text: str) -> Callable[[AppTest], None]:
    def check(at: AppTest) -> None:
        shown = " ".join(str(m.value) for m in [*at.title, *at.markdown])
        if at.exception or text not in shown:
            raise RuntimeError(f"the page did not show {text!r}: {at.exception}")
    return check


def _measure() -> dict[str, float]:
    from services.access import users
    from services.research import items
    from services.research.items import ItemQuery

    big_id = _fill("Penguin body mass, the big item")
    ada = users.get_user("ada")
    assert ada is not None

    at = signed_in("ada", PASSWORD)
    at.switch_page("pages/research.py")
    timed_run(at, _shows("of"))  # cold
    listed = f"of {items.search_items(ada, ItemQuery()).total:,} items"
    page = median_run(at, _shows(listed), 7)

    searches = []
    for word in ("penguin", "rain", "budget", "#12", "margin", "nothing-matches", "team",
                 "sales", "Notes 9"):
        started = time.perf_counter()
        items.search_items(ada, ItemQuery(text=word, page_size=20))
        searches.append(time.perf_counter() - started)
    search = statistics.median(searches)

    at.query_params["id"] = str(big_id)
    at.switch_page("pages/research_item.py")
    timed_run(at, _shows("Penguin body mass"))  # cold: draws every chart once
    item_page = median_run(at, _shows("Penguin body mass"), 5)
    charts = len(at.get("plotly_chart"))
    return {"page": page, "search": search, "item": item_page, "charts": charts}


def run(work_dir: Path) -> dict[str, dict]:
    with data_folder(work_dir):
        got = _measure()
    store = f"{ITEMS:,} items and {INSIGHTS:,} insights in the store"
    return {
        "B9 Research page warm": {
            "value": round(got["page"] * 1000, 1), "target": PAGE_TARGET_S * 1000, "unit": "ms",
            "ok": got["page"] <= PAGE_TARGET_S,
            "detail": f"Research list in AppTest, 20 per page, median of 7 reruns; {store}"},
        "B9 Research search": {
            "value": round(got["search"] * 1000, 1), "target": SEARCH_TARGET_S * 1000,
            "unit": "ms", "ok": got["search"] <= SEARCH_TARGET_S,
            "detail": "search_items over titles, descriptions, notes and tags with counts, "
                      f"median of 9 words; {store}"},
        "B9 Research item page warm": {
            "value": round(got["item"] * 1000, 1), "target": ITEM_TARGET_S * 1000, "unit": "ms",
            "ok": got["item"] <= ITEM_TARGET_S,
            "detail": f"item with {BIG_ITEM_INSIGHTS} charts and answers in AppTest "
                      f"({got['charts']} drawn per page), median of 5 reruns; {store}"},
    }


if __name__ == "__main__":
    print(json.dumps(run(ROOT / "bench" / "work"), indent=2))
