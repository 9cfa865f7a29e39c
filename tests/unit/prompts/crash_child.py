"""Child process for the crash tests: starts a batch of items and waits to be killed.

Environment: RESEARCH_DESK_DATA_DIR, ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL (the parent's fake);
CRASH_UNITS and CRASH_CONCURRENCY change the batch (20 items, 2 calls at once).
"""

import os
import time

from services.claude import wiring
from services.prompts import batches, templates
from services.prompts.batches import BatchRequest
from services.prompts.templates import TemplateDraft
from tests.factories import make_admin, make_item

UNITS = 20
CONCURRENCY = 2


def main() -> None:
    wiring.install()
    admin = make_admin()
    units = int(os.environ.get("CRASH_UNITS", UNITS))
    concurrency = int(os.environ.get("CRASH_CONCURRENCY", CONCURRENCY))
    items = [make_item(admin, f"Item {n}") for n in range(units)]
    template = templates.create_template(admin, TemplateDraft(
        name="Crash", body="Summarise <<{title}>>", model="claude-haiku-4-5", max_tokens=50))
    job = batches.start_batch(admin, BatchRequest(template_id=template.id, concurrency=concurrency,
                                                  item_ids=[i.id for i in items]))
    print(f"job {job.id}", flush=True)
    while True:
        time.sleep(1)


if __name__ == "__main__":
    main()
