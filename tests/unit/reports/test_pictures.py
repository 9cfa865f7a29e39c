"""Report pictures: one worker draws many charts within a time budget, and keeps them."""

import time

import plotly.graph_objects as go

from services.charts import chart_png
from services.charts.chart_png import PNG_MAGIC
from services.reports import pictures


def _figure(n: int) -> str:
    return go.Figure(go.Bar(x=["a", "b"], y=[n, n + 1])).to_json()


def test_pictures_are_drawn_by_one_worker_and_reused() -> None:
    assert chart_png.can_render_png(), "install Chromium: apt-get install -y chromium"
    drawn = pictures.render_pictures({1: _figure(1), 2: _figure(2)}, budget_s=120)
    assert sorted(drawn) == [1, 2] and all(p.startswith(PNG_MAGIC) for p in drawn.values())
    assert int.from_bytes(drawn[1][16:20], "big") == pictures.WIDTH
    started = time.perf_counter()
    again = pictures.render_pictures({7: _figure(1)}, budget_s=120)  # same figure, new id
    assert again == {7: drawn[1]} and time.perf_counter() - started < 5  # from the cache


def test_past_the_budget_the_worker_is_stopped_and_nothing_half_drawn_is_kept() -> None:
    started = time.perf_counter()
    drawn = pictures.render_pictures({n: _figure(100 + n) for n in range(50)}, budget_s=1.0)
    assert time.perf_counter() - started < 15
    assert len(drawn) < 50 and all(p.startswith(PNG_MAGIC) for p in drawn.values())
