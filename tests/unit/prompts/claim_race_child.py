"""Child process for the claim race: `python -m tests.unit.prompts.claim_race_child NAME ID…`
with RESEARCH_DESK_DATABASE_URL pointing at the shared PostgreSQL store. It connects, prints
"ready", reads a start time (epoch seconds) from stdin, then claims the i-th job at exactly
start + i × ROUND_S and prints "JOB_ID won" or "JOB_ID lost" for each."""

import os
import sys
import time

ROUND_S = 0.05


def main() -> None:
    from services.prompts import jobs  # noqa: PLC0415 - the store is chosen by the environment
    from services.store.db import get_engine  # noqa: PLC0415

    name, job_ids = sys.argv[1], [int(a) for a in sys.argv[2:]]
    get_engine().connect().close()  # connected before the race, so both start alike
    print("ready", flush=True)
    start = float(sys.stdin.readline())
    for n, job_id in enumerate(job_ids):
        time.sleep(max(0.0, start + n * ROUND_S - time.time()))
        won = jobs.claim(job_id, f"{name}:{os.getpid()}:race") is not None
        print(f"{job_id} {'won' if won else 'lost'}", flush=True)


if __name__ == "__main__":
    main()
