"""PNG export: real pictures from kaleido, and a hung renderer is stopped, not waited on."""

import logging
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


def test_a_failing_renderer_s_error_output_is_kept_bounded_and_redacted(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    crash = ("import sys; sys.stderr.write('noise ' * 2000 + 'Traceback: kaleido could not "
             "start Chromium (key sk-ant-abcdefghijkl123456)'); sys.exit(3)")
    monkeypatch.setattr(chart_png, "_worker_command", lambda: [sys.executable, "-c", crash])
    with caplog.at_level(logging.WARNING, logger="services.charts.chart_png"), \
            pytest.raises(ExportFailed, match="camera button") as failed:
        render_png(_figure_json(), width=300, height=200, attempts=2)
    detail = failed.value.detail
    assert detail.startswith("renderer failed (exit code 3): ") and "noise noise" in detail
    assert detail.endswith("kaleido could not start Chromium (key [redacted])")
    assert "kaleido could not" not in str(failed.value)  # the person gets a plain sentence
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2  # one line per attempt, each with the exit code and the tail
    for record in warnings:
        assert record.exit_code == 3  # type: ignore[attr-defined]
        tail = record.stderr  # type: ignore[attr-defined]
        assert detail.endswith(tail) and len(tail.encode()) <= chart_png.STDERR_TAIL_BYTES
        assert len(tail) > 1000  # bounded, not dropped
    assert "sk-ant-abcdefghijkl123456" not in caplog.text


def test_a_hung_renderer_s_output_so_far_is_kept_too(monkeypatch: pytest.MonkeyPatch) -> None:
    hang = [sys.executable, "-c",
            "import sys, time; sys.stderr.write('waiting for Chromium'); sys.stderr.flush(); "
            "time.sleep(60)"]
    monkeypatch.setattr(chart_png, "_worker_command", lambda: hang)
    with pytest.raises(ExportFailed) as failed:
        render_png(_figure_json(), width=300, height=200, timeout_s=1.5, attempts=1)
    assert "timed out" in failed.value.detail and "waiting for Chromium" in failed.value.detail
