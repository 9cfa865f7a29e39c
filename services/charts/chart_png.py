"""Charts as PNG pictures, rendered by kaleido in a child process we can always stop.

Kaleido drives a headless Chromium and, rarely, never returns (plotly/Kaleido#441). A
thread cannot be stopped, so each picture is drawn by `python -m services.charts.chart_png` in
its own process group: past the time limit the whole group (Python and Chromium) is
killed and the picture is tried once more before the user gets a plain message.
"""

import functools
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from services.errors import ResearchDeskError

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_ROOT = Path(__file__).resolve().parents[2]
_BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")


class ExportFailed(ResearchDeskError):
    """The chart could not be drawn as a picture."""


@functools.cache
def can_render_png() -> bool:
    """Server-side pictures need kaleido and a Chromium-based browser on the server."""
    try:
        import kaleido  # noqa: F401
    except ImportError:
        return False
    return bool(os.environ.get("BROWSER_PATH") or any(shutil.which(n) for n in _BROWSERS))


def _worker_command() -> list[str]:
    return [sys.executable, "-m", "services.charts.chart_png"]


def _draw_once(figure_json: str, size: dict[str, int], timeout_s: float) -> bytes | None:
    args = [*_worker_command(), str(size["width"]), str(size["height"]), str(size["scale"])]
    worker = subprocess.Popen(
        args, cwd=_ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        picture, _ = worker.communicate(figure_json.encode(), timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)  # Chromium too, not only Python
        worker.communicate()
        return None
    if worker.returncode != 0 or not picture.startswith(PNG_MAGIC):
        return None
    return picture


def render_png(figure_json: str, *, width: int, height: int, scale: int = 1,
               timeout_s: float = 45.0, attempts: int = 2) -> bytes:
    """A Plotly figure (its JSON) as PNG bytes, or `ExportFailed` after `attempts` tries."""
    size = {"width": width, "height": height, "scale": scale}
    for _ in range(attempts):
        picture = _draw_once(figure_json, size, timeout_s)
        if picture is not None:
            return picture
    raise ExportFailed(
        "The chart could not be drawn as a picture just now. Try again, or use the "
        "camera button above the chart.")


def _main() -> None:
    import plotly.io as pio

    width, height, scale = (int(value) for value in sys.argv[1:4])
    figure = pio.from_json(sys.stdin.read())
    sys.stdout.buffer.write(figure.to_image(format="png", width=width, height=height,
                                            scale=scale))


if __name__ == "__main__":
    _main()
