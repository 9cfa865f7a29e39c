"""What the page benchmarks (B5 Explore, B6 Usage, B9 Research) share: a data folder of
their own for the run, a signed-in AppTest, and timing `at.run()` (checked after the clock
stops, so a check never counts in the figure)."""

import os
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
ENV = ("RESEARCH_DESK_DATA_DIR", "RESEARCH_DESK_BCRYPT_ROUNDS", "RESEARCH_DESK_SECRETS_FILE")

Check = Callable[[AppTest], None]  # raises RuntimeError when the page did not draw what it must


@contextmanager
def data_folder(work_dir: Path) -> Iterator[Path]:
    """A fresh data folder (and metadata store) for the block; the environment as it was
    afterwards."""
    from services.settings import reset_settings_cache
    from services.store.db import dispose_engines

    saved = {name: os.environ.get(name) for name in ENV}
    try:
        with tempfile.TemporaryDirectory(dir=work_dir) as folder:
            data_dir = Path(folder) / "data"
            os.environ.update({"RESEARCH_DESK_DATA_DIR": str(data_dir),
                               "RESEARCH_DESK_BCRYPT_ROUNDS": "4",
                               "RESEARCH_DESK_SECRETS_FILE": str(data_dir / "no-secrets.toml")})
            reset_settings_cache()
            dispose_engines()
            try:
                yield data_dir
            finally:
                dispose_engines()
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        reset_settings_cache()


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
