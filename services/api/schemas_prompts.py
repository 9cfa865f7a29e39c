"""What the prompt-run, batch and usage endpoints take and give (pydantic, with examples)."""

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.api.schemas import UtcDateTime
from services.prompts.sources import MAX_UNITS

Id = Annotated[int, Field(ge=1, le=2**31 - 1)]


class OutputFieldOut(BaseModel):
    name: str = Field(examples=["topic"])
    type: Literal["text", "number", "category", "yes_no"] = Field(examples=["category"])
    choices: list[str] = Field(default_factory=list, examples=[["price", "delivery", "other"]])
    description: str = ""


class TemplateVersionOut(BaseModel):
    version: int = Field(examples=[3])
    system_prompt: str = Field(examples=["You are a careful analyst."])
    body: str = Field(examples=["Summarise {title} in one sentence. {description}"])
    variables: list[str] = Field(examples=[["title", "description"]],
                                 description="The {variables} the text uses, in order.")
    model: str = Field(examples=["claude-haiku-4-5"])
    temperature: float = Field(examples=[0.2])
    max_tokens: int = Field(examples=[1024])
    output_fields: list[OutputFieldOut] = Field(
        description="The output shape Claude must answer in; empty for a plain text answer.")
    created_by: str = Field(examples=["ada"])
    created_at: UtcDateTime


class TemplateOut(BaseModel):
    id: int = Field(examples=[4])
    name: str = Field(examples=["Summarise an item"])
    owner: str = Field(examples=["ada"])
    current_version: int = Field(examples=[3])
    versions: list[int] = Field(examples=[[1, 2, 3]], description="Every saved version.")
    created_at: UtcDateTime
    updated_at: UtcDateTime
    latest: TemplateVersionOut


class TemplateDetailOut(TemplateOut):
    history: list[TemplateVersionOut] = Field(description="Every version, newest first.")


class PromptRunIn(BaseModel):
    """A template run once on a research item; the run is saved on the item."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"template_id": 4, "item_id": 7}, {"template_id": 4, "item_id": 7, "stream": True}]})

    template_id: Id
    item_id: Id
    stream: bool = Field(default=False, description="Send server-sent events as the answer "
                                                    "arrives (event: text, run, done).")


class PromptRunOut(BaseModel):
    id: int = Field(examples=[31])
    item_id: int = Field(examples=[7])
    template_id: int | None = Field(examples=[4])
    template_version: int | None = Field(examples=[3])
    batch_id: int | None = Field(default=None, examples=[None])
    model: str = Field(examples=["claude-haiku-4-5"])
    status: Literal["succeeded", "failed", "cancelled"] = Field(examples=["succeeded"])
    prompt: str = Field(examples=["Summarise Returns in March in one sentence."])
    output: str = Field(examples=["Returns rose because of one late delivery week."])
    fields: dict[str, Any] | None = Field(default=None, examples=[{"topic": "delivery"}])
    input_tokens: int = Field(examples=[52])
    output_tokens: int = Field(examples=[14])
    cost_estimate: float = Field(examples=[0.00012])
    latency_ms: float = Field(examples=[840.0])
    error: str | None = Field(default=None, description="Why it failed, for people.")
    created_by: str = Field(examples=["bob"])
    created_at: UtcDateTime


class RowsIn(BaseModel):
    """Which rows of a dataset version: all, those whose column contains a text, or a sample."""

    model_config = ConfigDict(extra="forbid")

    dataset_id: Id
    version: int | None = Field(default=None, ge=1, le=2**31 - 1)
    mode: Literal["all", "filter", "sample"] = "all"
    filter_column: str = Field(default="", max_length=300)
    filter_text: str = Field(default="", max_length=1000)
    sample_size: int = Field(default=50, ge=1, le=MAX_UNITS)
    seed: int = Field(default=7, ge=0, le=2**31 - 1)


class BatchIn(BaseModel):
    """A template over research items (`item_ids`) or over a dataset's rows (`rows`)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"template_id": 4, "item_ids": [7, 8, 9]},
        {"template_id": 5, "rows": {"dataset_id": 17, "mode": "sample", "sample_size": 100},
         "concurrency": 8, "confirm": True}]})

    template_id: Id
    item_ids: list[int] = Field(default_factory=list, max_length=MAX_UNITS)
    rows: RowsIn | None = None
    concurrency: int = Field(default=4, ge=1, le=16, description="Calls at once.")
    use_message_batches: bool = Field(
        default=False, description="Half price through the Message Batches API; results "
                                   "within hours.")
    confirm: bool = Field(default=False, description="Needed when the plan says "
                                                     "`needs_confirmation`.")

    @model_validator(mode="after")
    def _one_source(self) -> "BatchIn":
        if self.rows is not None and self.item_ids:
            raise ValueError("Choose items or dataset rows, not both")
        if self.rows is None and not self.item_ids:
            raise ValueError("Choose at least one item (item_ids) or dataset rows (rows)")
        if any(not 1 <= i <= 2**31 - 1 for i in self.item_ids):
            raise ValueError("Item ids are whole numbers from 1")
        return self


class BatchPlanOut(BaseModel):
    units: int = Field(examples=[120], description="How many calls the batch makes.")
    input_tokens: int = Field(examples=[15_600], description="All calls together (counted "
                                                              "on a few, scaled).")
    max_cost: float | None = Field(examples=[0.74], description="US$ if every answer used "
                                                                "its full length.")
    needs_confirmation: bool = Field(examples=[False],
                                     description="Start it with `confirm: true`.")
    detail: str = Field(examples=["120 calls, about 15,600 tokens in; at most $0.74 if "
                                  "every answer used its full length."])
    template_id: int = Field(examples=[4])
    template_version: int = Field(examples=[3])
    model: str = Field(examples=["claude-haiku-4-5"])


class BatchOut(BaseModel):
    id: int = Field(examples=[12])
    title: str = Field(examples=["Summarise an item (v3) × 120 items"])
    kind: str = Field(examples=["batch"])
    status: Literal["queued", "running", "done", "failed", "cancelled"] = Field(
        examples=["running"])
    owner: str = Field(examples=["bob"])
    template_id: int | None = Field(examples=[4])
    template_version: int | None = Field(examples=[3])
    model: str = Field(examples=["claude-haiku-4-5"])
    concurrency: int = Field(examples=[4])
    total_units: int = Field(examples=[120])
    done: int = Field(examples=[80], description="Succeeded.")
    failed: int = Field(examples=[2])
    cancelled: int = Field(examples=[0])
    remaining: int = Field(examples=[38])
    spend: float = Field(examples=[0.31], description="Estimated US$ so far.")
    estimated_cost: float = Field(examples=[0.74])
    elapsed_s: float = Field(examples=[41.5])
    eta_s: float | None = Field(examples=[19.7], description="Seconds left, while running.")
    is_interrupted: bool = Field(examples=[False], description="Its server stopped (a "
                                 "crash, a restart); a server carries it on by itself "
                                 "within about RESEARCH_DESK_JOB_STALE_S seconds.")
    message: str = Field(examples=["118 succeeded, 2 failed (you can retry the failed ones)."])
    created_at: UtcDateTime
    started_at: UtcDateTime | None = None
    finished_at: UtcDateTime | None = None


UnitStatus = Literal["pending", "running", "succeeded", "failed", "cancelled"]


class UnitOut(BaseModel):
    id: int = Field(examples=[901])
    key: str = Field(examples=["item:7"], description="Where it came from: item:ID or row:N.")
    position: int = Field(examples=[0])
    label: str = Field(examples=["Returns in March"])
    inputs: dict[str, Any] = Field(examples=[{"title": "Returns in March"}])
    status: UnitStatus = Field(examples=["succeeded"])
    output: str | None = Field(examples=["Returns rose because of one late week."])
    fields: dict[str, Any] | None = Field(default=None, examples=[None])
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cost_estimate: float = 0.0
    latency_ms: float = 0.0
    attempts: int = 0
    error: str | None = None
    finished_at: UtcDateTime | None = None


class UsageRowOut(BaseModel):
    key: str = Field(examples=["2026-11-28"], description="The day, person, model or feature.")
    calls: int = Field(examples=[42])
    input_tokens: int = Field(examples=[12_000])
    output_tokens: int = Field(examples=[3_400])
    cache_read_tokens: int = Field(default=0, examples=[48_000], description="Prompt text "
                                   "read from the cache (billed at 0.1× the input price).")
    cache_write_tokens: int = Field(default=0, examples=[6_000], description="Prompt text "
                                    "written to the cache (5 minutes: 1.25×, 1 hour: 2×).")
    cache_write_1h_tokens: int = Field(default=0, examples=[0], description="The part of "
                                       "cache_write_tokens kept for an hour.")
    cost: float = Field(examples=[0.21], description="Estimated US$, with cache prices.")
    cache_saving: float = Field(default=0.0, examples=[0.12], description="Estimated US$ "
                                "prompt caching saved: the cached tokens at the input price "
                                "minus their cost (negative if writes were never read back).")
    failed: int = Field(examples=[1])
    error_rate: float = Field(examples=[0.024], description="Failed calls ÷ calls.")
    p50_ms: float = Field(examples=[820.0])
    p95_ms: float = Field(examples=[2100.0])


class GroundedOut(BaseModel):
    """Ask's written answers whose numbers were checked against their results."""

    answers_checked: int = Field(examples=[40])
    answers_flagged: int = Field(examples=[3], description="Answers with at least one "
                                 "number that does not appear in their result.")
    numbers_flagged: int = Field(examples=[5])


class UsageOut(BaseModel):
    since: date = Field(examples=["2026-11-01"])
    until: date = Field(examples=["2026-11-29"])
    person: str | None = Field(examples=["bob"], description="None: everyone (admins).")
    totals: UsageRowOut
    by_day: list[UsageRowOut]
    by_person: list[UsageRowOut]
    by_model: list[UsageRowOut]
    by_feature: list[UsageRowOut]
    grounded: GroundedOut


class BudgetOut(BaseModel):
    person: str = Field(examples=["bob"])
    month_start: date = Field(examples=["2026-11-01"])
    monthly_tokens: int | None = Field(examples=[2_000_000], description="None: no limit.")
    monthly_cost: float | None = Field(examples=[25.0], description="US$; None: no limit.")
    calls: int = Field(examples=[310])
    tokens_used: int = Field(examples=[410_000])
    cost_used: float = Field(examples=[3.12])
    tokens_left: int | None = Field(examples=[1_590_000])
    cost_left: float | None = Field(examples=[21.88])
    detail: str = Field(examples=["$21.88 of $25.00 left this month."])


class BudgetIn(BaseModel):
    """A person's monthly budget; both limits empty means no limit."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"monthly_cost": 25.0}, {"monthly_tokens": 2_000_000, "monthly_cost": None}]})

    monthly_tokens: int | None = Field(default=None, ge=0, le=10_000_000_000)
    monthly_cost: float | None = Field(default=None, ge=0, le=1_000_000)
