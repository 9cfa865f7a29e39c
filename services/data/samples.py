"""The sample datasets that ship in data/samples/ (small, real, openly licensed), and
“Try a sample dataset”: one click adds one as a shared dataset."""

from pathlib import Path

from pydantic import BaseModel
from sqlalchemy import select

from services.access import dataset_access
from services.access.permissions import require
from services.access.users import UserView
from services.data import datasets
from services.data.datasets import DatasetView
from services.errors import InvalidInput
from services.store.db import session_scope
from services.store.models import Dataset

SAMPLES_DIR = Path(__file__).resolve().parents[2] / "data" / "samples"


class Sample(BaseModel):
    key: str
    title: str
    file_name: str
    description: str
    source: str

    @property
    def path(self) -> Path:
        return SAMPLES_DIR / self.file_name


SAMPLES: tuple[Sample, ...] = (
    Sample(key="penguins", title="Palmer penguins", file_name="penguins.csv",
           description="344 penguins of three species on three islands: bill and flipper "
                       "sizes, body mass, sex and year. Good for comparing groups.",
           source="Palmer Station LTER via palmerpenguins (CC0)"),
    Sample(key="seattle-weather", title="Seattle weather 2012–2015",
           file_name="seattle-weather.csv",
           description="Daily rain, temperatures and wind in Seattle over four years. Good "
                       "for charts over time.",
           source="NOAA via vega-datasets (public domain)"),
    Sample(key="cars", title="Cars 1970–1982", file_name="cars.json",
           description="406 cars with fuel economy, horsepower and weight; some values are "
                       "missing and some names are misspelt. Good for trying the quality "
                       "report and fixes.",
           source="StatLib auto-mpg via vega-datasets"),
    Sample(key="tips", title="Restaurant tips", file_name="tips.csv",
           description="244 restaurant bills with the tip, the day, the time, the party size "
                       "and whether the table smoked. Good for a first chart.",
           source="Bryant & Smith (1995) via plotly (MIT)"),
)


def list_samples() -> list[Sample]:
    """The samples whose files are present."""
    return [s for s in SAMPLES if s.path.is_file()]


def get_sample(key: str) -> Sample:
    for sample in list_samples():
        if sample.key == key:
            return sample
    raise InvalidInput(f"There is no sample dataset called “{key}”.")


def add_sample(actor: UserView, key: str) -> tuple[DatasetView, bool]:
    """The shared dataset made from the sample, and whether it was added just now (a sample
    someone already shared is opened rather than added twice)."""
    require(actor.role, "upload_data")
    sample = get_sample(key)
    with session_scope() as session:
        existing = session.scalar(
            select(Dataset.id).where(Dataset.name == sample.title,
                                     dataset_access.visible_clause(actor)).limit(1))
    if existing is not None:
        return datasets.get_dataset(actor, int(existing)), False
    view, _ = datasets.create_from_upload(actor, sample.path, original_name=sample.file_name,
                                          name=sample.title)
    shared = datasets.set_shared(actor, view.id, True)
    datasets.update_details(actor, view.id, name=sample.title,
                            description=f"{sample.description} Source: {sample.source}.")
    return datasets.get_dataset(actor, shared.id), True
