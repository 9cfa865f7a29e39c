"""An evaluation question set: questions for Ask, each with its gold SQL, over named datasets.

A YAML file (the shipped one is evals/questions.yaml) names its datasets — a shipped sample
(`sample: tips`) or a file of the team's own (`file: sales.csv`, relative to the YAML) — and
lists the questions. A file that cannot be used is refused in one sentence that says where.
"""

import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from services.data.samples import SAMPLES
from services.errors import InvalidInput
from services.settings import PROJECT_ROOT

DEFAULT_QUESTIONS = PROJECT_ROOT / "evals" / "questions.yaml"
NAME_RULE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")  # a table name Claude and the gold SQL share
Kind = Literal["lookup", "group-by", "time", "ranking", "filter", "ambiguous", "other"]


class EvalDataset(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sample: str | None = None  # a key of services.data.samples.SAMPLES
    file: str | None = None  # a file of the team's own, relative to the YAML file

    @model_validator(mode="after")
    def _one_source(self) -> "EvalDataset":
        if (self.sample is None) == (self.file is None):
            raise ValueError("give either sample or file")
        return self


class EvalQuestion(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=80)
    question: str = Field(min_length=1, max_length=2000)
    datasets: list[str] = Field(min_length=1)
    sql: str = Field(min_length=1)
    kind: Kind = "other"
    ordered: bool = False  # the question asks for an order: rows must come in the gold's
    also: list[str] = Field(default_factory=list)  # other gold SQL that counts as right
    note: str = ""  # what counts as right, for an ambiguous question

    @property
    def golds(self) -> list[str]:
        return [self.sql, *self.also]


class QuestionSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    datasets: dict[str, EvalDataset] = Field(min_length=1)
    questions: list[EvalQuestion] = Field(min_length=1)
    source: Path = DEFAULT_QUESTIONS  # the YAML file, so `file:` paths resolve beside it

    def file_of(self, name: str) -> Path:
        entry = self.datasets[name]
        if entry.sample is not None:
            return next(s.path for s in SAMPLES if s.key == entry.sample)
        return (self.source.parent / str(entry.file)).resolve()


def load_questions(path: Path = DEFAULT_QUESTIONS) -> QuestionSet:
    """The question set in `path`, checked: every dataset exists, every question names
    datasets of the file, ids are unique. `InvalidInput` (one sentence) otherwise."""
    where = path.name
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise InvalidInput(f"The question file {where} could not be opened.") from error
    except UnicodeDecodeError as error:
        raise InvalidInput(f"The question file {where} is not a text file.") from error
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        at = f" near line {mark.line + 1}" if mark is not None else ""
        raise InvalidInput(f"The question file {where} is not valid YAML{at}.") from error
    if not isinstance(raw, dict):
        raise InvalidInput(f"The question file {where} needs a “datasets” and a “questions” "
                           "section.")
    try:
        found = QuestionSet.model_validate({**raw, "source": path.resolve()})
    except ValidationError as error:
        raise InvalidInput(f"The question file {where} has a problem at "
                           f"{_location(error)}: {_reason(error)}.") from error
    _check_names(found, where)
    return found


def _location(error: ValidationError) -> str:
    first = error.errors()[0]
    parts = [str(p + 1) if isinstance(p, int) else str(p) for p in first["loc"]]
    return " → ".join(parts) or "the top"


def _reason(error: ValidationError) -> str:
    first = error.errors()[0]
    message = str(first["msg"]).removeprefix("Value error, ")
    return message[:1].lower() + message[1:]


def _check_names(found: QuestionSet, where: str) -> None:
    samples = {s.key for s in SAMPLES}
    for name, entry in found.datasets.items():
        if not NAME_RULE.match(name):
            raise InvalidInput(f"In {where}, the dataset name “{name}” must be lower-case "
                               "letters, digits and _ (it is the table name in the SQL).")
        if entry.sample is not None and entry.sample not in samples:
            raise InvalidInput(f"In {where}, there is no sample dataset called "
                               f"“{entry.sample}” (there are: {', '.join(sorted(samples))}).")
        if not found.file_of(name).is_file():
            raise InvalidInput(f"In {where}, the file of the dataset “{name}” "
                               f"({entry.file or entry.sample}) was not found.")
    seen: set[str] = set()
    for question in found.questions:
        if question.id in seen:
            raise InvalidInput(f"In {where}, the question id “{question.id}” is used twice.")
        seen.add(question.id)
        unknown = [n for n in question.datasets if n not in found.datasets]
        if unknown:
            raise InvalidInput(f"In {where}, question “{question.id}” names a dataset that is "
                               f"not listed under datasets: “{unknown[0]}”.")
