"""AppTest: a fix that would blank values asks first, shows examples, and says the counts."""

from pathlib import Path

import duckdb
import pandas as pd

from services.data import datasets, quality
from tests.app.helpers import all_text, as_read, button, open_page, sign_in
from tests.factories import make_admin

ROWS = ["8.425.333", "1.282.697", "9.279.525", "4.232.095", "17.876.000", "1.000",
        "12.345.678", "2.000.000", "3.500.000", "n/d"]


def test_number_fix_asks_before_blanking_and_reports_counts(tmp_path: Path) -> None:
    admin = make_admin()
    upload = tmp_path / "paises.csv"
    upload.write_text("País;Población\n" + "".join(f"P{i};{v}\n" for i, v in
                                                     enumerate(ROWS * 2)))
    view, _ = datasets.create_from_upload(admin, upload, original_name="paises.csv")
    version = datasets.get_version(admin, view.id, 1)
    findings = quality.find_issues(Path(version.parquet_path))
    index = next(i for i, f in enumerate(findings) if f.kind == "numbers_stored_as_text")

    at = sign_in("ada")
    at.query_params["id"] = str(view.id)
    open_page(at, "pages/dataset.py")
    at.session_state[f"dataset_tab_{view.id}"] = "Quality"  # tabs compute only when opened
    at.run()
    at.button(key=f"dataset_fix_{view.id}_{index}").click().run()
    assert not at.exception
    text = all_text(at)
    assert ("2 values can't be read as numbers and would become missing — add it anyway?"
            in text)
    assert "Added to the recipe" not in text
    recipe_key = f"dataset_recipe_{view.id}"
    assert recipe_key not in at.session_state or not at.session_state[recipe_key]

    button(at, "Add anyway").click().run()
    assert "Added to the recipe" in all_text(at)
    at.session_state[f"dataset_tab_{view.id}"] = "Clean"  # only the open tab runs
    at.run()
    button(at, "Apply recipe").click().run()
    assert "2 values can't be read as numbers and would become missing — apply anyway?" \
        in all_text(at)
    assert datasets.get_dataset(admin, view.id).current_version == 1  # nothing applied yet

    button(at, "Apply anyway").click().run()
    assert not at.exception
    assert datasets.get_dataset(admin, view.id).current_version == 2
    message = all_text(at)
    assert "Version 2 is ready: 20 rows." in message
    assert "2 values could not be read and became missing" in message
    cleaned = datasets.get_version(admin, view.id, 2)
    read = duckdb.sql(f"SELECT * FROM '{cleaned.parquet_path}'").fetchall()
    assert [r[1] for r in read[:3]] == [8425333.0, 1282697.0, 9279525.0]
    assert read[9][1] is None


def test_cancelling_the_fix_adds_nothing(tmp_path: Path) -> None:
    admin = make_admin()
    upload = tmp_path / "p.csv"
    upload.write_text("k;v\n" + "".join(f"k{i};{v}\n" for i, v in enumerate(ROWS * 2)))
    view, _ = datasets.create_from_upload(admin, upload, original_name="p.csv")
    version = datasets.get_version(admin, view.id, 1)
    findings = quality.find_issues(Path(version.parquet_path))
    index = next(i for i, f in enumerate(findings) if f.kind == "numbers_stored_as_text")
    at = sign_in("ada")
    at.query_params["id"] = str(view.id)
    open_page(at, "pages/dataset.py")
    at.session_state[f"dataset_tab_{view.id}"] = "Quality"  # tabs compute only when opened
    at.run()
    at.button(key=f"dataset_fix_{view.id}_{index}").click().run()
    button(at, "Don't add it").click().run()
    assert not at.exception
    assert "can't be read" not in all_text(at)
    recipe_key = f"dataset_recipe_{view.id}"
    assert recipe_key not in at.session_state or not at.session_state[recipe_key]


def test_a_fix_that_removes_rows_says_so_on_its_button() -> None:
    """Issue 19.12: "Add fix" hid in a tooltip that whole rows go (real file: penguins)."""
    admin = make_admin()
    source = Path(__file__).parents[1] / "data" / "penguins.csv"
    view, _ = datasets.create_from_upload(admin, source, original_name="penguins.csv")
    version = datasets.get_version(admin, view.id, 1)
    findings = quality.find_issues(Path(version.parquet_path))
    index, finding = next((i, f) for i, f in enumerate(findings)
                          if f.kind == "missing_values" and f.column == "bill_length_mm")
    frame = pd.read_csv(source, keep_default_na=False, na_values=["NA"])
    gone = frame[frame["bill_length_mm"].isna()]
    other_values = int(gone.drop(columns="bill_length_mm").notna().sum().sum())

    at = sign_in("ada")
    at.query_params["id"] = str(view.id)
    open_page(at, "pages/dataset.py")
    at.session_state[f"dataset_tab_{view.id}"] = "Quality"
    at.run()
    label = as_read(at.button(key=f"dataset_fix_{view.id}_{index}").label)
    assert label == (f"Remove {len(gone)} rows (<1%) with no bill_length_mm — "
                     f"{other_values} other values go with them")
    assert finding.affected_rows == len(gone) == 2


def test_the_clean_tab_defaults_never_lead_to_an_error() -> None:
    """Issue 19.12: "Fill missing values" offered the median for a text column by default, and
    "Add to recipe" answered with an error."""
    admin = make_admin()
    source = Path(__file__).parents[1] / "data" / "penguins.csv"
    view, _ = datasets.create_from_upload(admin, source, original_name="penguins.csv")
    at = sign_in("ada")
    at.query_params["id"] = str(view.id)
    open_page(at, "pages/dataset.py")
    at.session_state[f"dataset_tab_{view.id}"] = "Clean"
    at.run()
    assert at.selectbox(key=f"dataset_fill_column_{view.id}").value == "species"  # text
    assert at.radio[0].options == ["the most common value", "a value I type"]
    button(at, "Add to recipe").click().run()
    assert not at.exception and not at.error
    assert len(at.session_state[f"dataset_recipe_{view.id}"]) == 1
    at.selectbox(key=f"dataset_fill_column_{view.id}").select("body_mass_g").run()
    assert at.radio[0].options[:2] == ["the median", "the average"]
