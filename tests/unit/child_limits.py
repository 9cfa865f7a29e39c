"""Run a piece of work in a child process and report its own peak memory and time, so a
regression that eats memory or hangs fails a test instead of taking the machine down."""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_WRAPPER = textwrap.dedent("""
    import json, resource, sys, time
    limit = int(sys.argv[1]) * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    started = time.perf_counter()
    outcome = "ok"
    try:
        exec(compile(sys.argv[2], "<child>", "exec"), {"__name__": "__child__"})
    except MemoryError:
        outcome = "MemoryError"
    except Exception as error:
        outcome = type(error).__name__ + ": " + str(error).splitlines()[0][:300]
    # VmHWM, not ru_maxrss: ru_maxrss keeps the forking parent's peak across exec
    with open("/proc/self/status") as status:
        peak_kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    print(json.dumps({"outcome": outcome, "seconds": time.perf_counter() - started,
                      "peak_mb": peak_kb / 1024}))
""")


def run_bounded(code: str, *, address_space_mb: int = 4096, timeout_s: float = 120,
                env: dict[str, str] | None = None) -> dict[str, object]:
    """Run `code` in a fresh interpreter under an address-space limit; a hang past
    `timeout_s` kills it (and fails the calling test through TimeoutExpired)."""
    done = subprocess.run([sys.executable, "-c", _WRAPPER, str(address_space_mb),
                           textwrap.dedent(code)], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout_s, env=env)
    lines = done.stdout.strip().splitlines()
    assert lines, f"the child died: {done.stderr[-2000:]}"
    return json.loads(lines[-1])
