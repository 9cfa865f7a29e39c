"""Work whose size an untrusted file or query decides runs in a child process that the
operating system bounds, never in the server process.

The one home of how such a child is bounded, for both users: the SQL sandbox's warm
workers (services.untrusted_sql) and one-shot work such as reading an Excel workbook
(`run`). Every child gets
- a minimal environment (`child_env`: no API keys, few malloc arenas and Arrow's system
  allocator, so its address space stays close to what it really uses);
- an address-space cap (`cap_memory`, `RLIMIT_AS`) at its size once its libraries are
  loaded plus a number of MB, so an allocation past it fails inside the child;
- a hard kill (SIGKILL) at a wall clock, by the parent; a one-shot child also gets a CPU
  time limit just past that clock, so it ends by itself should the parent be gone.

`run(module, function, args, memory_mb=, seconds=)` starts
`python -m services.data.bounded_child MODULE FUNCTION MEMORY_MB SECONDS`; the child
imports MODULE (only our own `services.*`), lowers its CPU priority, caps itself, reads the
keyword arguments as JSON on stdin, calls the function and writes one JSON answer on
stdout. No pickle either way. The parent keeps only that answer (`MAX_ANSWER_BYTES` at
most).
"""

import importlib
import json
import math
import os
import resource
import subprocess
import sys
import traceback
from pathlib import Path
from typing import Any

from services import errors

ROOT = Path(__file__).resolve().parents[2]
KEPT_ENV = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "SYSTEMROOT")
MAX_ANSWER_BYTES = 1 << 20
NICENESS = 5  # the server's own requests come first on a busy machine


class OutOfMemory(Exception):
    """The child needed more memory than its cap (it said so, or died without answering)."""


class TimedOut(Exception):
    """The child outlived its wall clock and was killed."""


class ChildFailed(Exception):
    """The child's function failed unexpectedly (a bug, not the file): logged, not worded."""


def child_env() -> dict[str, str]:
    env = {k: os.environ[k] for k in KEPT_ENV if k in os.environ}
    env.update({"PYTHONPATH": str(ROOT), "MALLOC_ARENA_MAX": "2",
                "ARROW_DEFAULT_MEMORY_POOL": "system", "PYTHONDONTWRITEBYTECODE": "1",
                "OMP_NUM_THREADS": "1"})
    return env


def address_space_mb() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) // 1024
    return 0


def cap_memory(limit_mb: int) -> int:
    """Cap this process's address space at today's size plus `limit_mb`; returns the cap
    in MB. Call it once the libraries are loaded (their first use maps memory)."""
    cap_mb = address_space_mb() + limit_mb
    _, inherited = resource.getrlimit(resource.RLIMIT_AS)
    if inherited != resource.RLIM_INFINITY:  # a parent's own cap cannot be raised
        cap_mb = min(cap_mb, inherited // (1024 * 1024))
    cap = cap_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    return cap_mb


# --- the parent's side ------------------------------------------------------------------

def run(module: str, function: str, args: dict[str, Any], *, memory_mb: int,
        seconds: float) -> Any:
    """`module.function(**args)` in a bounded child; its JSON answer, or the project's
    error it raised (same class and sentence), `OutOfMemory`, `TimedOut` or `ChildFailed`."""
    proc = subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
        [sys.executable, "-m", "services.data.bounded_child", module, function, str(memory_mb),
         str(seconds)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=ROOT, env=child_env(),
        close_fds=True)
    try:
        out, _ = proc.communicate(json.dumps(args).encode(), timeout=seconds)
    except subprocess.TimeoutExpired as error:
        raise TimedOut() from error
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    try:
        answer = json.loads(out[:MAX_ANSWER_BYTES]) if out else None
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise OutOfMemory()  # died without a word: the cap is the likely reason
    if answer.get("ok"):
        return answer.get("value")
    if answer.get("kind") == "memory":
        raise OutOfMemory()
    raised = getattr(errors, str(answer.get("error")), None)
    if isinstance(raised, type) and issubclass(raised, errors.ResearchDeskError):
        raise raised(str(answer.get("message", "")))
    raise ChildFailed(str(answer.get("message", "")))


# --- the child's side -------------------------------------------------------------------

def _out_of_memory(error: BaseException | None) -> bool:
    """A failed allocation, also as C libraries report it (expat: "out of memory", zlib:
    "insufficient memory"), anywhere in the chain of causes."""
    while error is not None:
        text = str(error).lower()
        if isinstance(error, MemoryError) or "out of memory" in text or \
                "insufficient memory" in text or "cannot allocate memory" in text:
            return True
        error = error.__cause__ or error.__context__
    return False


def _answer(module_name: str, function_name: str, memory_mb: int,
            seconds: float) -> dict[str, Any]:
    try:
        if not module_name.startswith("services."):
            raise ValueError(f"{module_name} is not one of our modules")
        function = getattr(importlib.import_module(module_name), function_name)
        args = json.loads(sys.stdin.buffer.read())
        os.nice(NICENESS)
        cap_memory(memory_mb)
        cpu = math.ceil(seconds) + 1  # CPU time never outruns the wall clock: a backstop
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
        return {"ok": True, "value": function(**args)}
    except Exception as error:
        if _out_of_memory(error):
            return {"ok": False, "kind": "memory"}
        if isinstance(error, errors.ResearchDeskError):
            return {"ok": False, "error": type(error).__name__, "message": str(error)}
        traceback.print_exc()
        return {"ok": False, "kind": "failed", "message": f"{type(error).__name__}: {error}"}


def main(argv: list[str]) -> int:
    protocol_out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # stray prints cannot break the answer
    answer = _answer(argv[1], argv[2], int(argv[3]), float(argv[4]))
    try:
        payload = json.dumps(answer).encode()
    except (MemoryError, TypeError, ValueError):
        payload = b'{"ok": false, "kind": "failed", "message": "no JSON answer"}'
    if len(payload) > MAX_ANSWER_BYTES:
        payload = b'{"ok": false, "kind": "memory"}'
    protocol_out.write(payload)
    protocol_out.flush()
    return 0


if __name__ == "__main__":
    code = main(sys.argv)
    sys.stderr.flush()
    os._exit(code)  # skip interpreter teardown: nothing is left to flush
