"""PNG export: real pictures from kaleido, and a hung renderer is stopped, not waited on."""

import sys

import plotly.graph_objects as go
import psutil
import pytest

from services.charts import chart_png
from services.charts.chart_png import PNG_MAGIC, ExportFailed, render_png


def _figure_json() -> str:
    return go.Figure(go.Bar(x=["a", "b"], y=[3, 4])).to_json()


def test_render_png_draws_a_picture_at_the_asked_size() -> None:
    assert chart_png.can_render_png(), "install Chromium: apt-get install -y chromium"
    picture = render_png(_figure_json(), width=300, height=200, scale=2)
    assert picture.startswith(PNG_MAGIC)
    width = int.from_bytes(picture[16:20], "big")
    height = int.from_bytes(picture[20:24], "big")
    assert (width, height) == (600, 400)


def test_a_hung_renderer_is_killed_retried_and_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[int] = []
    real_popen = chart_png.subprocess.Popen

    def recording_popen(*args, **kwargs):  # type: ignore[no-untyped-def]
        process = real_popen(*args, **kwargs)
        started.append(process.pid)
        return process

    hang = [sys.executable, "-c", "import time; time.sleep(60)"]
    monkeypatch.setattr(chart_png, "_worker_command", lambda: hang)
    monkeypatch.setattr(chart_png.subprocess, "Popen", recording_popen)
    with pytest.raises(ExportFailed, match="camera button"):
        render_png(_figure_json(), width=300, height=200, timeout_s=0.5, attempts=2)
    assert len(started) == 2
    assert not [pid for pid in started if psutil.pid_exists(pid)
                and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE]


def test_a_renderer_that_returns_no_picture_is_an_export_failure(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chart_png, "_worker_command",
                        lambda: [sys.executable, "-c", "print('not a picture')"])
    with pytest.raises(ExportFailed):
        render_png(_figure_json(), width=300, height=200, attempts=1)
