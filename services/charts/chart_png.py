"""Charts as PNG pictures, rendered by kaleido in a child process we can always stop.

Kaleido drives a headless Chromium and, rarely, never returns (plotly/Kaleido#441). A
thread cannot be stopped, so each picture is drawn by `python -m services.charts.chart_png` in
its own process group: past the time limit the whole group (Python and Chromium) is
killed and the picture is tried once more before the user gets a plain message.
"""

import functools
import logging
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from services.errors import ResearchDeskError
from services.logs import redact

log = logging.getLogger(__name__)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
STDERR_TAIL_BYTES = 2048  # the end of a traceback says what went wrong
_ROOT = Path(__file__).resolve().parents[2]
_BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")


class ExportFailed(ResearchDeskError):
    """The chart could not be drawn as a picture. `detail` is the renderer's own error
    output (its last lines, secrets redacted), for the log and for whoever debugs it."""

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail


def _tail(stderr: bytes | None) -> str:
    """The last `STDERR_TAIL_BYTES` of the child's error output, secrets redacted."""
    text = redact((stderr or b"")[-STDERR_TAIL_BYTES:].decode("utf-8", "replace").strip())
    while len(text.encode()) > STDERR_TAIL_BYTES:  # redaction can lengthen the text
        text = text[1:]
    return text


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


def _draw_once(figure_json: str, size: dict[str, int], timeout_s: float,
               ) -> tuple[bytes | None, str]:
    """The picture, or None and what went wrong (the child's error output, bounded)."""
    args = [*_worker_command(), str(size["width"]), str(size["height"]), str(size["scale"])]
    worker = subprocess.Popen(
        args, cwd=_ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, start_new_session=True,
    )
    try:
        picture, errors = worker.communicate(figure_json.encode(), timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)  # Chromium too, not only Python
        _, errors = worker.communicate()
        return None, _failed(f"timed out after {timeout_s:g} s", None, errors)
    if worker.returncode != 0:
        return None, _failed("failed", worker.returncode, errors)
    if not picture.startswith(PNG_MAGIC):
        return None, _failed("returned no picture", worker.returncode, errors)
    return picture, ""


def _failed(what: str, exit_code: int | None, errors: bytes | None) -> str:
    tail = _tail(errors)
    log.warning(f"chart picture renderer {what}",
                extra={"exit_code": exit_code, "stderr": tail})
    return f"renderer {what}" + (f" (exit code {exit_code})" if exit_code else "") + (
        f": {tail}" if tail else "")


def render_png(figure_json: str, *, width: int, height: int, scale: int = 1,
               timeout_s: float = 45.0, attempts: int = 2) -> bytes:
    """A Plotly figure (its JSON) as PNG bytes, or `ExportFailed` after `attempts` tries."""
    size = {"width": width, "height": height, "scale": scale}
    detail = ""
    for _ in range(attempts):
        picture, detail = _draw_once(figure_json, size, timeout_s)
        if picture is not None:
            return picture
    raise ExportFailed(
        "The chart could not be drawn as a picture just now. Try again, or use the "
        "camera button above the chart.", detail=detail)


def _main() -> None:
    import plotly.io as pio

    width, height, scale = (int(value) for value in sys.argv[1:4])
    figure = pio.from_json(sys.stdin.read())
    sys.stdout.buffer.write(figure.to_image(format="png", width=width, height=height,
                                            scale=scale))


if __name__ == "__main__":
    _main()
