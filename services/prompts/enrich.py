"""Enrich a dataset: a template's output fields become new columns of a new version.

Planning reads the chosen rows, fills each with the columns that feed the template's
variables, and keys it by a hash of those filled-in values. A row whose key already has a
stored result for the same template version and model costs nothing (see `reuse`); empty
rows are skipped; the rest go to Claude as one background job (kind "enrich", one unit per
distinct input). When the job completes — or when a cancelled job's results so far are
saved — the results are turned into columns by a recipe step (`services.data.added_columns`)
that only reads stored results.
"""

import hashlib
import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from services.access import dataset_access
from services.access.caller_checks import require_claude
from services.access.users import UserView
from services.data import added_columns, datasets
from services.data.added_columns import AddClaudeColumns, NewColumn
from services.errors import Conflict, InvalidInput, PermissionDenied, ResearchDeskError
from services.prompts import batches, jobs, reuse, sources, templates
from services.prompts.batches import DEFAULT_CONCURRENCY, BatchPlan
from services.prompts.jobs import JobView
from services.prompts.runner import MAX_CONCURRENCY, get_runner
from services.prompts.sources import RowSelection, UnitInput
from services.prompts.templates import TemplateVersionView
from services.store.db import session_scope
from services.store.models import Job

KIND = "enrich"
KEY_PREFIX = "input:"


class EnrichRequest(BaseModel):
    template_id: int
    rows: RowSelection
    inputs: dict[str, str] = {}  # template variable → column (a variable named as a column
    # needs no entry)
    concurrency: int = DEFAULT_CONCURRENCY
    use_message_batches: bool = False  # half price, the columns arrive within hours


class EnrichPlan(BaseModel):
    dataset_id: int
    base_version: int
    chosen: int  # rows chosen
    empty: int  # chosen rows whose inputs are all empty: skipped, never sent
    reused: int  # chosen rows whose input already has a stored result: no cost
    to_send: int  # chosen rows that need Claude
    calls: int  # distinct inputs among them (identical rows are sent once)
    columns: list[str]  # the new columns' names
    chart_column: str  # the one to chart first: the first category column, else the first
    inputs: dict[str, str]
    cost: BatchPlan | None  # None when nothing needs to be sent

    @property
    def sentence(self) -> str:
        parts = [f"{self.chosen:,} rows chosen: {self.reused:,} rows already have results "
                 f"(no cost), {self.to_send:,} will be sent"]
        if self.calls != self.to_send:
            parts.append(f" as {self.calls:,} calls (identical rows are sent once)")
        if self.empty:
            parts.append(f"; {self.empty:,} {_are(self.empty)} empty and will be skipped")
        names = ", ".join(f"“{c}”" for c in self.columns)
        text = "".join(parts) + f". New columns: {names}."
        return text + (f" {self.cost.cost_sentence}" if self.cost is not None else "")

    @property
    def needs_confirmation(self) -> bool:
        return self.cost is not None and self.cost.needs_confirmation


def _rows(count: int) -> str:
    return f"{count:,} row{'' if count == 1 else 's'}"


def _are(count: int) -> str:
    return "is" if count == 1 else "are"


def _were(count: int) -> str:
    return "was" if count == 1 else "were"


class EnrichOutcome(BaseModel):
    job: JobView | None  # None when every row already had a result
    new_version: int | None
    message: str


class _Prepared(BaseModel):
    version: TemplateVersionView
    plan: EnrichPlan
    row_keys: dict[int, str]  # chosen, non-empty row → its input key
    units: list[UnitInput]  # one per distinct input without a stored result


# --- planning ----------------------------------------------------------------------------

def runs_of(numbers: list[int]) -> list[list[int]]:
    """Sorted row numbers as [first, last] runs: all 10,000 rows of a dataset are one pair."""
    runs: list[list[int]] = []
    for number in numbers:
        if runs and runs[-1][1] == number - 1:
            runs[-1][1] = number
        else:
            runs.append([number, number])
    return runs


def rows_of(runs: list[list[int]]) -> list[int]:
    return [n for first, last in runs for n in range(int(first), int(last) + 1)]


def input_key(values: dict[str, str]) -> str:
    """The hash of a unit's filled-in input values (by variable name, so renaming a column
    keeps its results)."""
    text = json.dumps(values, sort_keys=True, ensure_ascii=False)
    return KEY_PREFIX + hashlib.sha256(text.encode("utf-8")).hexdigest()


def _require_changer(actor: UserView, dataset_id: int) -> UserView:
    caller = require_claude(actor=actor)
    dataset = datasets.get_dataset(caller, dataset_id)
    if not dataset_access.can_change(caller, dataset):
        raise PermissionDenied("Only the dataset's owner or an admin can add columns to it; "
                               "ask them, or make a copy of your own.")
    return caller


def _inputs(version: TemplateVersionView, chosen: dict[str, str],
            columns: list[str]) -> dict[str, str]:
    variables = version.variables
    if not variables:
        raise InvalidInput("The template reads no columns, so every row would get the same "
                           "answer: write the column it should read in braces, e.g. {comment}.")
    mapping = {}
    for variable in variables:
        column = chosen.get(variable) or (variable if variable in columns else "")
        if not column:
            offered = ", ".join(f"“{c}”" for c in columns)
            raise InvalidInput(f"Pick the column that fills {{{variable}}}: it is not a column "
                               f"of this dataset (its columns are {offered}).")
        if column not in columns:
            raise InvalidInput(f"The dataset has no column “{column}”; pick one of its columns.")
        mapping[variable] = column
    return mapping


def _keyed(rows: list[UnitInput], mapping: dict[str, str],
           ) -> tuple[dict[int, str], dict[str, tuple[int, dict[str, str], int]], int]:
    """Each non-empty row's input key; per key its first row, values and how many rows
    share it; and how many rows are empty (every input blank)."""
    row_keys: dict[int, str] = {}
    firsts: dict[str, tuple[int, dict[str, str], int]] = {}
    empty = 0
    for row in rows:
        values = {variable: row.values[column] for variable, column in mapping.items()}
        if not any(v.strip() for v in values.values()):
            empty += 1
            continue
        number = int(row.key.removeprefix("row:"))
        key = input_key(values)
        row_keys[number] = key
        first = firsts.get(key)
        firsts[key] = (first[0], first[1], first[2] + 1) if first else (number, values, 1)
    return row_keys, firsts, empty


def _prepare(caller: UserView, request: EnrichRequest) -> _Prepared:
    version = templates.get_version(caller, request.template_id)
    if not version.output_fields:
        raise InvalidInput("This template has no output shape, so there are no fields to "
                           "become columns: add output fields to it on the Templates tab.")
    base = datasets.get_version(caller, request.rows.dataset_id, request.rows.version)
    selection = request.rows.model_copy(update={"version": base.version})
    columns = sources.dataset_columns(caller, selection.dataset_id, base.version)
    mapping = _inputs(version, request.inputs, columns)
    wanted = list(dict.fromkeys(mapping.values()))
    rows = sources.row_inputs(caller, selection, wanted)
    if not rows:
        raise InvalidInput("No rows match your choice, so there is nothing to enrich; choose "
                           "all rows or change the filter.")
    if len(rows) > sources.MAX_UNITS:
        raise InvalidInput(f"An enrichment can cover at most {sources.MAX_UNITS:,} rows; "
                           "choose fewer (a filter or a sample).")
    row_keys, firsts, empty = _keyed(rows, mapping)
    if not row_keys:
        shown = ", ".join(f"“{c}”" for c in wanted)
        raise InvalidInput(f"Every chosen row is empty in {shown}, so there is nothing to send "
                           "to Claude.")
    stored = reuse.stored_keys(version.template_id, version.version, version.model,
                               set(row_keys.values()))
    units = [UnitInput(key=key, label=f"Row {first:,}" + (
        f" (and {count - 1:,} more with the same input)" if count > 1 else ""), values=values)
        for key, (first, values, count) in firsts.items() if key not in stored]
    reused = sum(1 for key in row_keys.values() if key in stored)
    names = added_columns.unique_names(columns, [f.name for f in version.output_fields])
    kinds = [f.type for f in version.output_fields]
    chart = names[kinds.index("category")] if "category" in kinds else names[0]
    plan = EnrichPlan(dataset_id=selection.dataset_id, base_version=base.version,
                      chart_column=chart,
                      chosen=len(rows), empty=empty, reused=reused,
                      to_send=len(row_keys) - reused, calls=len(units), columns=names,
                      inputs=mapping, cost=batches.plan_units(
                          version, units, message_batches=request.use_message_batches)
                      if units else None)
    return _Prepared(version=version, plan=plan, row_keys=row_keys, units=units)


def plan_enrichment(actor: UserView, request: EnrichRequest) -> EnrichPlan:
    """What an enrichment would send and cost, before anything is sent."""
    caller = _require_changer(actor, request.rows.dataset_id)
    return _prepare(caller, request).plan


# --- starting ----------------------------------------------------------------------------

def start_enrichment(actor: UserView, request: EnrichRequest, *,
                     confirmed: bool = False) -> EnrichOutcome:
    """Starts the job for the rows without a stored result; if there are none, makes the new
    version at once."""
    caller = _require_changer(actor, request.rows.dataset_id)
    if not 1 <= request.concurrency <= MAX_CONCURRENCY:
        raise InvalidInput(f"Calls at once must be between 1 and {MAX_CONCURRENCY}.")
    prepared = _prepare(caller, request)
    plan, version = prepared.plan, prepared.version
    source: dict[str, Any] = {
        "kind": "dataset", "enrich": True, "dataset_id": plan.dataset_id,
        "base_version": plan.base_version, "selection": request.rows.model_dump(),
        "inputs": plan.inputs, "columns": plan.columns, "chart_column": plan.chart_column,
        "chosen": plan.chosen,
        "empty": plan.empty, "reused": plan.reused,
        "rows": runs_of(sorted(prepared.row_keys)),
        "message_batches": request.use_message_batches}
    if plan.cost is None:
        made = _make_version(caller, version, source)
        return EnrichOutcome(job=None, new_version=made[0], message=made[1])
    if plan.cost.needs_confirmation and not confirmed:
        raise InvalidInput(f"Please confirm the cost first: {plan.cost.cost_sentence}")
    title = (f"Enrich: {version.name} (v{version.version}) × {plan.to_send:,} rows of "
             f"{datasets.get_dataset(caller, plan.dataset_id).name}")
    job = jobs.create_job(caller.username, kind=KIND, title=title,
                          template_id=version.template_id, template_version=version.version,
                          model=version.model, concurrency=request.concurrency, source=source,
                          units=prepared.units, estimated_cost=plan.cost.max_cost or 0.0,
                          unit_max_tokens=plan.cost.unit_max_tokens, what="This enrichment")
    get_runner().submit(job.id)
    return EnrichOutcome(job=job, new_version=None,
                         message="Claude is adding the columns. You can leave this page; it "
                                 "carries on, and the new version is made when it finishes.")


# --- making the version ------------------------------------------------------------------

def _make_version(person: UserView, version: TemplateVersionView,
                  source: dict[str, Any]) -> tuple[int, str]:
    """Writes the results file from stored results and applies the step; returns the new
    version's number and the sentence saying what happened."""
    dataset_id, base_version = int(source["dataset_id"]), int(source["base_version"])
    inputs: dict[str, str] = dict(source["inputs"])
    wanted = list(dict.fromkeys(inputs.values()))
    read = sources.row_values(person, dataset_id, base_version, wanted,
                              rows_of(source["rows"]))
    row_keys = {n: input_key({v: values[c] for v, c in inputs.items()})
                for n, values in read.items()}
    answers = reuse.stored_fields(version.template_id, version.version, version.model,
                                  set(row_keys.values()))
    results = {n: answers[k] for n, k in sorted(row_keys.items()) if k in answers}
    columns = [NewColumn(field=f.name, name=name, kind=f.type)
               for f, name in zip(version.output_fields, source["columns"], strict=True)]
    base = datasets.get_version(person, dataset_id, base_version)
    folder = Path(base.parquet_path).parent
    results_file = folder / f"claude_{reuse.file_tag()}.parquet"
    added_columns.write_results(results_file, columns, results)
    current = datasets.get_dataset(person, dataset_id).current_version
    without = len(row_keys) - len(results)
    empty = int(source.get("empty", 0))
    note = (f"{_rows(len(results))} got values; {without:,} failed or have no result; "
            f"{empty:,} {_were(empty)} empty and skipped.")
    step = AddClaudeColumns(template_id=version.template_id, template_name=version.name,
                            template_version=version.version, model=version.model,
                            inputs=inputs, columns=columns,
                            results_file=str(results_file))
    try:
        made = datasets.add_claude_columns(person, dataset_id, step, base_version=base_version,
                                           note=note)
    except Exception:
        results_file.unlink(missing_ok=True)
        raise
    names = ", ".join(f"“{c.name}”" for c in columns)
    message = (f"New version {made.version} with columns {names}: {_rows(len(results))} got "
               f"values, {without:,} failed")
    if empty:
        message += f", {empty:,} {_were(empty)} empty and skipped"
    message += "."
    if current != base_version:
        message += (f" The dataset changed meanwhile (version {current} was current), so this "
                    f"version is based on version {base_version}, which the enrichment read.")
    return made.version, message


def _record_version(job_id: int, number: int) -> None:
    with session_scope(write=True) as session:
        job = session.get(Job, job_id)
        if job is not None:
            job.source = {**job.source, "new_version": number}


def complete(job: JobView, person: UserView, version: TemplateVersionView) -> str:
    """The runner's last step of an enrich job: makes the new version; returns the job's
    closing sentence (the results stay stored even if the version cannot be made)."""
    made = new_version_of(job)
    if made:  # its runner made it and stopped before closing the job
        return f"{jobs.outcome_sentence(job.id)} The new version is version {made}."
    try:
        number, message = _make_version(person, version, job.source)
    except ResearchDeskError as error:
        return (f"{jobs.outcome_sentence(job.id)} The new version could not be made: {error}")
    _record_version(job.id, number)
    return message


def save_results_so_far(actor: UserView, job_id: int) -> EnrichOutcome:
    """For a cancelled or stopped enrichment: a new version from the results that arrived."""
    job = jobs.get_job(actor, job_id)
    if job.kind != KIND:
        raise InvalidInput("Only an enrichment's results become columns.")
    if job.status in jobs.ACTIVE:
        raise Conflict("This enrichment is still running; cancel it first or let it finish.")
    if job.source.get("new_version"):
        raise Conflict(f"These results are already version {job.source['new_version']}.")
    caller = _require_changer(actor, int(job.source["dataset_id"]))
    version = templates.get_version(caller, job.template_id or 0, job.template_version)
    number, message = _make_version(caller, version, job.source)
    _record_version(job.id, number)
    return EnrichOutcome(job=jobs.get_job(actor, job_id), new_version=number, message=message)


def new_version_of(job: JobView) -> int | None:
    number = job.source.get("new_version") if job.kind == KIND else None
    return int(number) if number else None


def running_for_dataset(actor: UserView, dataset_id: int) -> list[JobView]:
    """This person's enrichments of a dataset that are still queued or running."""
    return [j for j in jobs.list_jobs(actor) if j.kind == KIND and j.status in jobs.ACTIVE
            and int(j.source.get("dataset_id", 0)) == dataset_id]
