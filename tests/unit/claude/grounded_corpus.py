"""The grounded-answer corpus: answers written over small real results (tests/data files
grouped with pandas, every option explicit), each number tagged with what it is.

Tags: "true" (a cell as it is), "rounded" (a cell rounded as a person would), "derived" (a
share, difference, ratio, total or mean of shown values); and the ones that must be flagged:
"invented", "swapped" (digits swapped) and "wrong_unit" (a wrong scale word or percent)."""

from functools import cache
from pathlib import Path

import pandas as pd

DATA = Path(__file__).resolve().parents[2] / "data"
VERDICT = {"true": "found", "rounded": "rounded", "derived": "derived",
           "invented": "not_found", "swapped": "not_found", "wrong_unit": "not_found"}
MUST_PASS = ("true", "rounded", "derived")
MUST_FLAG = ("invented", "swapped", "wrong_unit")


@cache
def results() -> dict[str, pd.DataFrame]:
    penguins = pd.read_csv(DATA / "penguins.csv", na_values=["NA"])
    flights = pd.read_csv(DATA / "flights_3000.csv")
    gapminder = pd.read_csv(DATA / "gapminder_es.csv", sep=";", decimal=",", thousands=".",
                            encoding="utf-8-sig")
    sexed = penguins.dropna(subset=["sex"])
    latest = gapminder[gapminder["Año"] == gapminder["Año"].max()]
    flights["day"] = pd.to_datetime(flights["time_hour"], format="%Y-%m-%d %H:%M:%S")\
        .dt.normalize()
    return {
        "mass": penguins.groupby("species", as_index=False, sort=True).agg(
            mean_mass=("body_mass_g", "mean"), penguins=("species", "size")),
        "island": penguins.groupby("island", as_index=False, sort=True).agg(
            penguins=("species", "size")),
        "female": sexed.groupby("species", as_index=False, sort=True).agg(
            share_female=("sex", lambda s: float((s == "female").mean()))),
        "years": penguins.groupby("year", as_index=False, sort=True).agg(
            penguins=("species", "size"), mean_flipper=("flipper_length_mm", "mean")),
        "bill": penguins.groupby(["species", "sex"], as_index=False, sort=True).agg(
            mean_bill=("bill_length_mm", "mean"), max_mass=("body_mass_g", "max")),
        "airports": flights.groupby("origin", as_index=False, sort=True).agg(
            flights=("flight", "size"), mean_dep_delay=("dep_delay", "mean"),
            total_distance=("distance", "sum")),
        "continents": latest.groupby("Continente", as_index=False, sort=True).agg(
            poblacion=("Población", "sum"), esperanza=("Esperanza de vida", "mean")),
        "days": flights.groupby("day", as_index=False, sort=True).agg(
            flights=("flight", "size")).head(4),
    }


QUESTIONS = {
    "mass": "Which penguin species is heaviest on average?",
    "island": "How many penguins live on each island?",
    "female": "What share of each species is female?",
    "years": "How many penguins were measured each year?",
    "bill": "What is the mean bill length by species and sex?",
    "airports": "How many flights left from each airport, and how late were they?",
    "continents": "¿Cuál es la población por continente en 2007?",
    "days": "How many flights were there per day in early January?",
}

# (result, answer, {number as written: tag})
CORPUS: list[tuple[str, str, dict[str, str]]] = [
    ("mass", "Gentoo penguins are the heaviest, averaging 5,076.02 g across 124 birds.",
     {"5,076.02": "rounded", "124": "true"}),
    ("mass", "Gentoo are heaviest at about 5,076 g; Chinstrap average 3,733 g and Adelie "
     "3,701 g.", {"5,076": "rounded", "3,733": "rounded", "3,701": "rounded"}),
    ("mass", "Gentoo average roughly 5,100 g, compared with about 3,700 g for Adelie.",
     {"5,100": "rounded", "3,700": "rounded"}),
    ("mass", "Gentoo average 5.1 thousand grams.", {"5.1 thousand": "rounded"}),
    ("mass", "Gentoo are heaviest (5,076.0 g), about 1,375 g more than Adelie.",
     {"5,076.0": "rounded", "1,375": "derived"}),
    ("mass", "Gentoo are about 37% heavier than Adelie (5,076 g vs 3,701 g).",
     {"37%": "derived", "5,076": "rounded", "3,701": "rounded"}),
    ("mass", "The table covers 344 penguins: 152 Adelie, 68 Chinstrap and 124 Gentoo.",
     {"344": "derived", "152": "true", "68": "true", "124": "true"}),
    ("mass", "Gentoo make up 36% of the 344 penguins.", {"36%": "derived", "344": "derived"}),
    ("mass", "Adelie are the largest group with 44.2% of all birds.", {"44.2%": "derived"}),
    ("mass", "Gentoo are heaviest at 5,430 g on average.", {"5,430": "invented"}),
    ("mass", "Gentoo average 5,067 g.", {"5,067": "swapped"}),
    ("mass", "There are 125 Gentoo penguins in the data.", {"125": "swapped"}),
    ("mass", "Gentoo average 5.1 million grams.", {"5.1 million": "wrong_unit"}),
    ("mass", "Gentoo make up 0.36% of the penguins.", {"0.36%": "wrong_unit"}),
    ("mass", "Chinstrap average 3,733.09 g, the middle of the three.",
     {"3,733.09": "rounded"}),
    ("mass", "1. Gentoo: 5,076 g\n2. Chinstrap: 3,733 g\n3. Adelie: 3,701 g",
     {"5,076": "rounded", "3,733": "rounded", "3,701": "rounded"}),
    ("mass", "Gentoo weigh 5\u202f076,02 g on average, Adelie 3 700,66 g.",
     {"5\u202f076,02": "rounded", "3 700,66": "rounded"}),
    ("mass", "Gentoo average 5.076,02 g; Adelie 3.700,66 g.",
     {"5.076,02": "rounded", "3.700,66": "rounded"}),
    ("mass", "Gentoo average 5'076.02 g.", {"5'076.02": "rounded"}),
    ("mass", "Gentoo average 4,812 g and Chinstrap 3,733 g.",
     {"4,812": "invented", "3,733": "rounded"}),
    ("mass", "Adelie average 3,007 g.", {"3,007": "swapped"}),
    ("mass", "There are 186 Chinstrap penguins.", {"186": "invented"}),
    ("mass", "The three species average 4,170 g together.", {"4,170": "derived"}),

    ("island", "Biscoe has the most penguins (168), then Dream (124) and Torgersen (52).",
     {"168": "true", "124": "true", "52": "true"}),
    ("island", "Biscoe holds 49% of the 344 penguins.", {"49%": "derived", "344": "derived"}),
    ("island", "Biscoe has 116 more penguins than Torgersen.", {"116": "derived"}),
    ("island", "Biscoe has about 3.2 times as many penguins as Torgersen.",
     {"3.2": "derived"}),
    ("island", "Biscoe has 186 penguins.", {"186": "swapped"}),
    ("island", "Torgersen has 25 penguins.", {"25": "swapped"}),
    ("island", "Dream has 142 penguins.", {"142": "invented"}),
    ("island", "Biscoe has 168k penguins.", {"168k": "wrong_unit"}),
    ("island", "Torgersen is home to 15% of the penguins.", {"15%": "derived"}),
    ("island", "Torgersen is home to 25% of the penguins.", {"25%": "invented"}),

    ("female", "Half of the Adelie and Chinstrap penguins are female (50%), and 48.7% of "
     "Gentoo.", {"50%": "true", "48.7%": "rounded"}),
    ("female", "About 49% of Gentoo are female.", {"49%": "rounded"}),
    ("female", "Gentoo have a female share of 0.487.", {"0.487": "rounded"}),
    ("female", "Gentoo are 1.3 percentage points less often female than Adelie.",
     {"1.3 percentage points": "derived"}),
    ("female", "Gentoo: 84.7% female.", {"84.7%": "swapped"}),
    ("female", "Gentoo: 0.487% female.", {"0.487%": "wrong_unit"}),
    ("female", "Adelie are 55% female.", {"55%": "invented"}),

    ("years", "The count rose from 110 in 2007 to 120 in 2009.",
     {"110": "true", "2007": "true", "120": "true", "2009": "true"}),
    ("years", "Across 2007–2009 there were 344 penguins, 114 of them in 2008.",
     {"2007": "true", "2009": "true", "344": "derived", "114": "true", "2008": "true"}),
    ("years", "Mean flipper length grew from 196.9 mm in 2007 to 202.8 mm in 2009.",
     {"196.9": "rounded", "2007": "true", "202.8": "rounded", "2009": "true"}),
    ("years", "Flippers grew by about 5.9 mm between 2007 and 2008.",
     {"5.9": "derived", "2007": "true", "2008": "true"}),
    ("years", "Flippers grew by 9.5 mm between 2007 and 2009.",
     {"9.5": "invented", "2007": "true", "2009": "true"}),
    ("years", "Mean flipper length in 2008 was 208.2 mm.", {"2008": "true", "208.2": "swapped"}),
    ("years", "In 2009, 210 penguins were measured.", {"2009": "true", "210": "invented"}),

    ("bill", "Male Chinstrap have the longest bills at 51.1 mm; female Adelie the shortest "
     "at 37.3 mm.", {"51.1": "rounded", "37.3": "rounded"}),
    ("bill", "The heaviest penguin is a male Gentoo at 6,300 g.", {"6,300": "true"}),
    ("bill", "Male Gentoo bills average 49.47 mm, 3.9 mm longer than females.",
     {"49.47": "rounded", "3.9": "derived"}),
    ("bill", "Male Chinstrap bills average 15.1 mm.", {"15.1": "swapped"}),
    ("bill", "Female Gentoo weigh up to 2,500 g.", {"2,500": "invented"}),

    ("airports", "EWR had the most flights (1,108) with an average delay of 15.6 minutes.",
     {"1,108": "true", "15.6": "rounded"}),
    ("airports", "LGA flights were the most punctual, leaving 6 minutes late on average.",
     {"6": "rounded"}),
    ("airports", "The three airports flew 3,000 flights in total.", {"3,000": "derived"}),
    ("airports", "JFK flights covered 1.33 million miles.", {"1.33 million": "rounded"}),
    ("airports", "JFK flights covered about 1.3 million miles, EWR about 1.1 million.",
     {"1.3 million": "rounded", "1.1 million": "rounded"}),
    ("airports", "EWR flights left 9.6 minutes later on average than LGA flights.",
     {"9.6": "derived"}),
    ("airports", "EWR's average delay was 51.6 minutes.", {"51.6": "swapped"}),
    ("airports", "LGA had 1,858 flights.", {"1,858": "invented"}),
    ("airports", "JFK covered 1.33 billion miles.", {"1.33 billion": "wrong_unit"}),
    ("airports", "JFK had 1,034 flights, 34% of the total.",
     {"1,034": "true", "34%": "derived"}),
    ("airports", "EWR handled 1.108 million flights.", {"1.108 million": "wrong_unit"}),
    ("airports", "Flights from EWR were delayed by -15.6 minutes on average.",
     {"-15.6": "wrong_unit"}),

    ("continents", "Asia had 3.8 billion people in 2007, Africa 929.5 million.",
     {"3.8 billion": "rounded", "929.5 million": "rounded"}),
    ("continents", "Asia tenía 3.811.953.827 habitantes; Oceanía 24.549.947.",
     {"3.811.953.827": "true", "24.549.947": "true"}),
    ("continents", "La esperanza de vida media en Oceanía era de 80,7 años y en África de 54,8.",
     {"80,7": "rounded", "54,8": "rounded"}),
    ("continents", "Asia had 3.8 million people.", {"3.8 million": "wrong_unit"}),
    ("continents", "Europe had 568.1 million people.", {"568.1 million": "swapped"}),
    ("continents", "Oceania had 24.5 million people, 0.4% of the total.",
     {"24.5 million": "rounded", "0.4%": "derived"}),
    ("continents", "Asia: $3.81bn people, or 61% of the world.",
     {"$3.81bn": "rounded", "61%": "derived"}),

    ("days", "On 2 January 2013 there were 943 flights, the busiest day.", {"943": "true"}),
    ("days", "Flights fell to 301 on 2013-01-04.", {"301": "true"}),
    ("days", "Jan 3 had 914 flights, 29 fewer than Jan 2.", {"914": "true", "29": "derived"}),
    ("days", "The first four days had 3,000 flights.", {"3,000": "derived"}),
    ("days", "On 1 January 2013 there were 824 flights.", {"824": "swapped"}),
    ("days", "In 2014 there were 943 flights on 2 January.",
     {"2014": "invented", "943": "true"}),
]
