"""What the page benchmarks (B5 Explore, B6 Usage, B9 Research) share: a data folder of
their own for the run, a signed-in AppTest, and timing `at.run()` (checked after the clock
stops, so a check never counts in the figure)."""

import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]

Check = Callable[[AppTest], None]  # raises RuntimeError when the page did not draw what it must


@contextmanager
def data_folder(work_dir: Path) -> Iterator[Path]:
    """A fresh data folder (and metadata store) for the block; the environment as it was
    afterwards."""
    from services.settings import environment_changed
    from services.store.db import dispose_engines

    with tempfile.TemporaryDirectory(dir=work_dir) as folder:
        data_dir = Path(folder) / "data"
        with environment_changed({
                "RESEARCH_DESK_DATA_DIR": str(data_dir), "RESEARCH_DESK_BCRYPT_ROUNDS": "4",
                "RESEARCH_DESK_SECRETS_FILE": str(data_dir / "no-secrets.toml")}):
            dispose_engines()
            try:
                yield data_dir
            finally:
                dispose_engines()


def signed_in(username: str, password: str, *, timeout: float = 120) -> AppTest:
    """The app in AppTest after signing in through its form (not timed)."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)
    at.run()
    next(t for t in at.text_input if t.label == "Username").input(username)
    next(t for t in at.text_input if t.label == "Password").input(password)
    next(b for b in at.button if b.label == "Sign in").click().run()
    return at


def timed_run(at: AppTest, check: Check) -> float:
    """Seconds one rerun takes; `check` looks at the result afterwards."""
    started = time.perf_counter()
    at.run()
    elapsed = time.perf_counter() - started
    check(at)
    return elapsed


def median_run(at: AppTest, check: Check, runs: int) -> float:
    """The median of `runs` timed reruns (warm figures)."""
    return statistics.median(timed_run(at, check) for _ in range(runs))
