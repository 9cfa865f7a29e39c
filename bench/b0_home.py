"""B0_home: the Home page's AppTest rerun time, cold and warm, as a ratio to an empty page.

Both pages run in the same process, one after the other, several times; medians are used.
"""

import os
import statistics
import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
RUNS = 7
# Home reads the metadata store three times (datasets, activity, user) where the blank page
# does nothing at all; we hold it to at most 10 × a blank page, cold and warm.
COLD_TARGET = 10.0
WARM_TARGET = 10.0


def _timed(at: AppTest) -> float:
    started = time.perf_counter()
    at.run(timeout=60)
    return time.perf_counter() - started


def _empty_page(work_dir: Path) -> Path:
    script = work_dir / "empty_page.py"
    script.write_text('import streamlit as st\n\nst.title("Empty")\n')
    return script


def _signed_in_home() -> AppTest:
    """A new session that already holds a sign-in, so its first run renders Home."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.session_state["authentication_status"] = True
    at.session_state["username"] = "ada"
    return at


def run(work_dir: Path) -> dict[str, dict]:
    os.environ["RESEARCH_DESK_DATA_DIR"] = str(work_dir / "data")
    os.environ["RESEARCH_DESK_BCRYPT_ROUNDS"] = "4"
    from services.data.datasets import create_from_sample
    from services.settings import reset_settings_cache
    from services.store.db import dispose_engines
    from tests.factories import make_admin

    reset_settings_cache()
    dispose_engines()
    admin = make_admin()
    create_from_sample(admin, "tips")

    empty_cold, empty_warm, home_cold, home_warm = [], [], [], []
    for _ in range(RUNS):
        blank = AppTest.from_file(str(_empty_page(work_dir)))
        empty_cold.append(_timed(blank))
        empty_warm.append(_timed(blank))
        home = _signed_in_home()
        home_cold.append(_timed(home))
        home_warm.append(_timed(home))
    dispose_engines()

    cold = statistics.median(home_cold) / statistics.median(empty_cold)
    warm = statistics.median(home_warm) / statistics.median(empty_warm)
    detail = (
        f"home {statistics.median(home_cold) * 1000:.0f}/{statistics.median(home_warm) * 1000:.0f}"
        f" ms vs empty {statistics.median(empty_cold) * 1000:.0f}/"
        f"{statistics.median(empty_warm) * 1000:.0f} ms (cold/warm, median of {RUNS})"
    )
    return {
        "B0_home_cold": {"value": cold, "target": COLD_TARGET, "unit": "× empty page",
                         "ok": cold <= COLD_TARGET, "detail": detail},
        "B0_home_warm": {"value": warm, "target": WARM_TARGET, "unit": "× empty page",
                         "ok": warm <= WARM_TARGET, "detail": detail},
    }
