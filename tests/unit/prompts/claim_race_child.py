"""Child process for the claim race: `python -m tests.unit.prompts.claim_race_child NAME`
with RESEARCH_DESK_DATABASE_URL pointing at the shared PostgreSQL store. It connects, prints
"ready", then for each job id read from stdin claims that job and prints "won" or "lost"."""

import os
import sys


def main() -> None:
    from services.prompts import jobs  # noqa: PLC0415 - the store is chosen by the environment
    from services.store.db import get_engine  # noqa: PLC0415

    name = sys.argv[1]
    get_engine().connect().close()  # connected before the race, so both start alike
    print("ready", flush=True)
    for line in sys.stdin:
        won = jobs.claim(int(line), f"{name}:{os.getpid()}:race") is not None
        print("won" if won else "lost", flush=True)


if __name__ == "__main__":
    main()
