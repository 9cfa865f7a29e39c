"""Run every benchmark module in bench/ and write results.json plus a Markdown table.

Usage: python -m bench.run [name-substring ...]
Each module `bench/b*.py` exposes `run(work_dir: Path) -> dict[str, dict]`.
"""

import importlib
import json
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_JSON = BENCH_DIR / "results.json"
RESULTS_MD = BENCH_DIR / "results.md"
README = BENCH_DIR.parent / "README.md"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"
DATA_DIR_ENV = "RESEARCH_DESK_DATA_DIR"


def _modules(filters: list[str]) -> list[str]:
    names = sorted(p.stem for p in BENCH_DIR.glob("b*.py"))
    if not filters:
        return names
    return [n for n in names if any(f in n for f in filters)]


def _markdown(results: dict[str, dict]) -> str:
    lines = [
        "| id | value | target | unit | ok | detail |",
        "|---|---:|---:|---|:-:|---|",
    ]
    for key in sorted(results):
        r = results[key]
        mark = "yes" if r.get("ok") else "**no**"
        lines.append(
            f"| {key} | {r['value']:.3g} | {r['target']:.3g} | {r['unit']} | {mark} | "
            f"{r.get('detail', '')} |"
        )
    return "\n".join(lines) + "\n"


def _embed_in_readme(table: str) -> None:
    text = README.read_text()
    if START not in text or END not in text:
        return
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    README.write_text(f"{head}{START}\n{table}{END}{tail}")


@contextmanager
def _own_data_folder(work_dir: Path) -> Iterator[None]:
    """Each benchmark gets a data folder of its own, and the next one starts clean: settings,
    the metadata store and the DuckDB door all follow the folder, never a deleted one."""
    from services.settings import reset_settings_cache
    from services.store.db import dispose_engines

    saved = os.environ.get(DATA_DIR_ENV)
    os.environ[DATA_DIR_ENV] = str(work_dir / "data")
    reset_settings_cache()
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop(DATA_DIR_ENV, None)
        else:
            os.environ[DATA_DIR_ENV] = saved
        reset_settings_cache()
        dispose_engines()


def main(argv: list[str]) -> int:
    existing: dict[str, dict] = {}
    if argv and RESULTS_JSON.exists():
        existing = json.loads(RESULTS_JSON.read_text())
    results = dict(existing)
    failed = False
    work_root = BENCH_DIR / "work"
    work_root.mkdir(exist_ok=True)
    for name in _modules(argv):
        started = time.perf_counter()
        print(f"== {name}", flush=True)
        try:
            module = importlib.import_module(f"bench.{name}")
            with tempfile.TemporaryDirectory(dir=work_root) as work_dir, \
                    _own_data_folder(Path(work_dir)):
                produced = module.run(Path(work_dir))
        except Exception:  # a broken benchmark must not hide the others
            traceback.print_exc()
            failed = True
            continue
        for key, value in produced.items():
            results[key] = value
            print(f"   {key}: {value['value']:.3g} {value['unit']} (target {value['target']:.3g})"
                  f" {'ok' if value['ok'] else 'MISSED'}", flush=True)
        print(f"   ({time.perf_counter() - started:.1f} s)", flush=True)
    RESULTS_JSON.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    RESULTS_MD.write_text(_markdown(results))
    _embed_in_readme(_markdown(results))
    print(_markdown(results))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
