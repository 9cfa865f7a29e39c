"""A shared research item whose insights came from three datasets: the owner's private one,
a shared one, and a private one of the person who will run a prompt on it (an admin, who
may add to any item they can read)."""

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from services.access.users import UserView
from services.data import datasets
from services.research import items
from services.research import saved_insights as research
from services.research.items import ItemInput
from services.research.saved_insights import NewInsight

OWNERS_PRIVATE = "Alice payroll"  # 7 rows, 2 columns: never in someone else's prompt
SHARED = "Team sales"  # 2 rows, 3 columns
RUNNERS_OWN = "Bob scratch"  # 3 rows, 4 columns
OWNERS_SIZE = "7 rows, 2 columns"


@dataclass
class ItemStory:
    item_id: int
    private_id: int
    shared_id: int
    runners_id: int


def _dataset(owner: UserView, folder: Path, name: str, rows: int, columns: int) -> int:
    header = ",".join(f"c{n}" for n in range(columns))
    lines = [",".join(str(r * columns + n) for n in range(columns)) for r in range(rows)]
    path = folder / f"{name.replace(' ', '_')}.csv"
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    view, _ = datasets.create_from_upload(owner, path, original_name=path.name, name=name)
    return view.id


def _insight(actor: UserView, item_id: int, dataset_id: int, title: str) -> None:
    research.save_insight(actor, NewInsight(item_id=item_id, kind="answer", title=title,
                                            summary=f"From {title}", spec={},
                                            dataset_id=dataset_id, dataset_version=1),
                          pd.DataFrame({"a": [1]}))


def shared_item_with_three_datasets(owner: UserView, runner: UserView,
                                    folder: Path) -> ItemStory:
    """`owner`'s shared item; `runner` must be an admin (to add an insight to it)."""
    private_id = _dataset(owner, folder, OWNERS_PRIVATE, 7, 2)
    shared_id = _dataset(owner, folder, SHARED, 2, 3)
    datasets.set_shared(owner, shared_id, True)
    runners_id = _dataset(runner, folder, RUNNERS_OWN, 3, 4)
    item_id = items.create_item(owner, ItemInput(title="Churn", description="Why they leave",
                                                 visibility="shared")).id
    _insight(owner, item_id, private_id, "payroll check")
    _insight(owner, item_id, shared_id, "sales check")
    _insight(runner, item_id, runners_id, "scratch check")
    return ItemStory(item_id=item_id, private_id=private_id, shared_id=shared_id,
                     runners_id=runners_id)
