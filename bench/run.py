"""Run every benchmark module in bench/ and write results.json plus a Markdown table.

Usage: python -m bench.run [name-substring ...]
Each module `bench/b*.py` exposes `run(work_dir: Path) -> dict[str, dict]`.
"""

import importlib
import json
import sys
import tempfile
import time
import traceback
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_JSON = BENCH_DIR / "results.json"
RESULTS_MD = BENCH_DIR / "results.md"
README = BENCH_DIR.parent / "README.md"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"


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
            with tempfile.TemporaryDirectory(dir=work_root) as work_dir:
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
