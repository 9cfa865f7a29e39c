"""Child process for the crash test: starts a batch of 20 items and waits to be killed.

Environment: RESEARCH_DESK_DATA_DIR, ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL (the parent's fake).
"""

import time

from services.claude import wiring
from services.prompts import batches, templates
from services.prompts.batches import BatchRequest
from services.prompts.templates import TemplateDraft
from services.store import research
from tests.factories import make_admin

UNITS = 20


def main() -> None:
    wiring.install()
    admin = make_admin()
    items = [research.create_item(admin, f"Item {n}") for n in range(UNITS)]
    template = templates.create_template(admin, TemplateDraft(
        name="Crash", body="Summarise <<{title}>>", model="claude-haiku-4-5", max_tokens=50))
    job = batches.start_batch(admin, BatchRequest(template_id=template.id, concurrency=2,
                                                  item_ids=[i.id for i in items]))
    print(f"job {job.id}", flush=True)
    while True:
        time.sleep(1)


if __name__ == "__main__":
    main()
