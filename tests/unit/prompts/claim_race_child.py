"""Child process for the claim race: claims each of the parent's jobs the moment both children
are at the barrier, and reports which it won. Runs with the 'spawn' start method, so it
opens its own connection to the shared PostgreSQL store."""

import os
from typing import Any


def claim_each(name: str, database_url: str, data_dir: str, orders: Any,
               barrier: Any, results: Any) -> None:
    """Gets the job ids from `orders` once the parent has made them (the child starts
    meanwhile)."""
    os.environ["RESEARCH_DESK_DATABASE_URL"] = database_url
    os.environ["RESEARCH_DESK_DATA_DIR"] = data_dir
    from services.prompts import jobs  # noqa: PLC0415 - after the store is chosen
    from services.store.db import get_engine  # noqa: PLC0415

    job_ids: list[int] = orders.get(timeout=60)
    get_engine().connect().close()  # connected before the race, so both start alike
    for job_id in job_ids:
        barrier.wait()
        won = jobs.claim(job_id, f"{name}:{os.getpid()}:race") is not None
        results.put((job_id, name, won))
