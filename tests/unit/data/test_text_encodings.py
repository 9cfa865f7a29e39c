"""Files in legacy encodings are read with the right letters, or the person is asked: never
garbled text without a word (issue 18.14: "CSV in any encoding" was only UTF-8/16,
Windows-1252 and Latin-1)."""

from pathlib import Path

import pytest

from services.data.dataset_models import ReadOptions
from services.data.ingest import ingest_file
from services.data.text_encoding import MSG_UNKNOWN, detect_encoding
from services.errors import InvalidInput
from tests.unit.datasets_fixtures import ingest_text, rows_of, write_bytes

# Largest cities by country with their populations (each country's census figures).
CITIES = {
    "cp1251": ("город,население\nМосква,13010112\nСанкт-Петербург,5601911\n"
               "Новосибирск,1633595\nЕкатеринбург,1544376\nКазань,1308660\n"),
    "koi8_r": ("город,население\nМосква,13010112\nСанкт-Петербург,5601911\n"
               "Новосибирск,1633595\nЕкатеринбург,1544376\nКазань,1308660\n"),
    "cp932": "都市,人口\n東京,13960000\n横浜,3770000\n大阪,2750000\n名古屋,2330000\n札幌,1970000\n",
    "gb18030": ("城市,人口\n上海,24870000\n北京,21890000\n深圳,17560000\n广州,18680000\n"
                "成都,20940000\n"),
    "cp949": "도시,인구\n서울,9411000\n부산,3349000\n인천,2957000\n대구,2385000\n대전,1446000\n",
    "cp1253": ("πόλη,πληθυσμός\nΑθήνα,664046\nΘεσσαλονίκη,325182\nΠάτρα,167446\n"
               "Ηράκλειο,173993\nΛάρισα,148562\n"),
}


@pytest.mark.parametrize("encoding", sorted(CITIES))
def test_legacy_encodings_read_with_their_own_letters(tmp_path: Path, encoding: str) -> None:
    text = CITIES[encoding]
    result = ingest_text(tmp_path, f"{encoding}.csv", text, encoding=encoding)
    expected = [(name, int(n)) for name, n in
                (line.split(",") for line in text.strip().splitlines()[1:])]
    assert rows_of(result) == expected
    assert result.columns[0].name == text.split(",")[0]


@pytest.mark.parametrize("text", [
    "Kunde;Betrag\nMüller;1.234,50 €\nSchäfer;2,75 €\n",  # cp1252 euro sign
    "ville,prix\nOrléans,12\nSaint-Étienne,3\nNîmes,4\n",
    "país,año\nEspaña,2024\nMéxico,2023\nPerú,2022\n",
])
def test_western_text_stays_western(text: str) -> None:
    raw = text.encode("cp1252")
    assert detect_encoding(raw) in {"cp1252", "latin-1"}
    assert raw.decode(detect_encoding(raw)) == text


def test_text_no_one_can_read_is_refused_with_a_way_out(tmp_path: Path) -> None:
    # bytes that are no language in any encoding: long runs of high bytes without structure
    noise = bytes(range(0xA0, 0xFF)) * 3
    path = write_bytes(tmp_path, "noise.csv", b"a,b\n" + noise + b",1\n" + noise[::-1] + b",2\n")
    with pytest.raises(InvalidInput) as refused:
        ingest_file(path, original_name="noise.csv", dest_dir=tmp_path / "out")
    assert str(refused.value) == MSG_UNKNOWN
    assert not list((tmp_path / "out").glob("*.parquet"))


def test_an_unknown_chosen_encoding_is_one_sentence(tmp_path: Path) -> None:
    path = write_bytes(tmp_path, "a.csv", b"a,b\n1,2\n")
    with pytest.raises(InvalidInput, match="^“klingon” is not a text encoding Research Desk "
                                           "knows; choose one such as utf-8"):
        ingest_file(path, original_name="a.csv", dest_dir=tmp_path / "out",
                    options=ReadOptions(encoding="klingon"))


def test_a_long_spanish_file_in_windows_1252_is_not_taken_for_japanese() -> None:
    # charset-normalizer alone read this real file (gapminder, Spanish names) as cp932
    text = (Path(__file__).parents[2] / "data" / "gapminder_es.csv").read_text("utf-8-sig")
    raw = (text * 30).encode("cp1252")[:1 << 20]
    assert detect_encoding(raw) == "latin-1"  # no byte only Windows-1252 uses: the same letters
    assert raw.decode("latin-1").startswith(text[:1000])
