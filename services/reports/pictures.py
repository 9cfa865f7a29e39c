"""Chart pictures for exports: many charts drawn by one kaleido worker within a time budget.

Kaleido needs about a second per chart on a busy machine, so a report with 200 charts is
drawn by one child process (one browser) that writes each PNG as soon as it is ready;
whatever is not ready when the budget runs out is left out (the report then says so and
still has the chart's data table). Pictures are kept on disk by the figure's content, so
the next export of the same item is quick.
"""

import hashlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from services.charts.chart_png import PNG_MAGIC, can_render_png
from services.settings import get_settings

_ROOT = Path(__file__).resolve().parents[2]
WIDTH, HEIGHT = 1000, 560


def _cache_dir() -> Path:
    folder = get_settings().data_dir / "cache" / "pictures"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _key(figure_json: str) -> str:
    return hashlib.sha256(f"{WIDTH}x{HEIGHT}:{figure_json}".encode()).hexdigest()[:32]


def render_pictures(figures: dict[int, str], *, budget_s: float = 60.0) -> dict[int, bytes]:
    """PNG bytes for as many of `figures` (id -> plotly figure JSON) as fit in the budget."""
    if not figures:
        return {}
    cache = _cache_dir()
    done: dict[int, bytes] = {}
    todo: dict[int, str] = {}
    for figure_id, figure_json in figures.items():
        cached = cache / f"{_key(figure_json)}.png"
        if cached.is_file():
            done[figure_id] = cached.read_bytes()
        else:
            todo[figure_id] = figure_json
    if not todo or not can_render_png():
        return done
    with tempfile.TemporaryDirectory(prefix="pictures-") as work:
        folder = Path(work)
        for figure_id, figure_json in todo.items():
            (folder / f"{figure_id}.json").write_text(figure_json, encoding="utf-8")
        _run_worker(folder, budget_s)
        for figure_id, figure_json in todo.items():
            picture = folder / f"{figure_id}.png"
            if picture.is_file() and picture.read_bytes().startswith(PNG_MAGIC):
                data = picture.read_bytes()
                (cache / f"{_key(figure_json)}.png").write_bytes(data)
                done[figure_id] = data
    return done


def _run_worker(folder: Path, budget_s: float) -> None:
    worker = subprocess.Popen(
        [sys.executable, "-m", "services.reports.pictures", str(folder)], cwd=_ROOT,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + budget_s
    try:
        worker.wait(timeout=max(0.1, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)  # the browser too, not only Python
        worker.wait()


def _main(folder: Path) -> None:
    import kaleido
    import plotly.io as pio

    kaleido.start_sync_server(silence_warnings=True)
    try:
        for path in sorted(folder.glob("*.json"), key=lambda p: int(p.stem)):
            figure = pio.from_json(path.read_text(encoding="utf-8"))
            png = kaleido.calc_fig_sync(figure, opts={"format": "png", "width": WIDTH,
                                                      "height": HEIGHT})
            partial = path.with_suffix(".part")
            partial.write_bytes(png)
            partial.rename(path.with_suffix(".png"))  # whole pictures only
    finally:
        kaleido.stop_sync_server(silence_warnings=True)


if __name__ == "__main__":
    _main(Path(sys.argv[1]))
