"""The sample datasets that ship in data/samples/ (small, real, openly licensed)."""

from pathlib import Path

from pydantic import BaseModel

from services.errors import InvalidInput

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
