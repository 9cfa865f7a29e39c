"""B14: billed input-token cost with prompt caching, against the fake Messages API (its
cache accounting follows the API's: marked prefixes, minimum lengths, time to live, tokens
counted at about four characters each), each figure against the same work with caching off
(every prefix sent unmarked, as before caching existed). Costs come from the project's price
table: input, cache reads (0.1×), 5-minute writes (1.25×) and 1-hour writes (2×).

- Ask: a 10-turn conversation over a 40-column dataset (2,000 rows, profiled, 5 sample
  rows), through `ask.ask` with the history of earlier turns, default model: planning,
  repairs and answer calls. Target ≤ 35 %.
- Enrichment: 500 rows through the job runner (the path an enrichment's rows take, 8 at a
  time) with a 1,500-token template and an output shape. Target ≤ 30 %. It runs on
  `claude-sonnet-4-5` (1,024-token minimum, priced as the table's Sonnet row): on Sonnet
  4.6 (2,048) or Haiku 4.5 (4,096) a 1,500-token prefix is below the minimum, so it is
  sent uncached and costs what it did (100 %)."""

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
import pandas as pd

TURNS = 10
COLUMNS = 40
ROWS_IN_DATASET = 2_000
ENRICH_ROWS = 500
ENRICH_MODEL = "claude-sonnet-4-5"  # the 1,024-token minimum; same price as Sonnet 4.6
TEMPLATE_TOKENS = 1_500
CONCURRENCY = 8
ASK_TARGET = 0.35
ENRICH_TARGET = 0.30
QUESTIONS = [
    "What is the total revenue by region?",
    "And which product category sells most in the North?",
    "How did monthly revenue change over the year?",
    "Which sales channel has the highest average discount?",
    "Top 5 customers by lifetime value?",
    "How many orders were returned by region?",
    "What is the average delivery days by shipping method?",
    "Which store has the most orders?",
    "Compare the average rating by product category",
    "What share of orders used a coupon?",
]
ENV = {"ANTHROPIC_API_KEY": "sk-bench", "RESEARCH_DESK_BCRYPT_ROUNDS": "4"}


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    from services import settings
    from services.claude import client as claude
    from services.store.db import dispose_engines

    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    settings.reset_settings_cache()
    claude.reset_clients()
    dispose_engines()
    try:
        yield
    finally:
        dispose_engines()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        settings.reset_settings_cache()
        claude.reset_clients()


def _caching_off() -> Any:
    """Every prefix judged too short to pay: requests go out unmarked, as before caching."""
    from services.claude import caching

    return mock.patch.object(caching, "pays", lambda *_a, **_k: False)


def _input_cost(used: list[Any]) -> float:
    from services.claude import client as claude

    return sum(claude.estimate_cost(u.model, u.model_copy(update={"output_tokens": 0})) or 0.0
               for u in used)


def _wide_dataset(work_dir: Path) -> Path:
    rng = np.random.default_rng(14)
    n = ROWS_IN_DATASET
    frame = pd.DataFrame({
        "order_id": np.arange(n), "order_date": pd.date_range("2025-01-01", periods=n,
                                                             freq="4h"),
        "region": rng.choice(["North", "South", "East", "West", "Central"], n),
        "country": rng.choice(["Germany", "France", "Spain", "Italy", "Poland", "Austria"], n),
        "city": rng.choice([f"City {i}" for i in range(60)], n),
        "store": rng.choice([f"Store {i:03d}" for i in range(120)], n),
        "sales_channel": rng.choice(["Online", "Retail", "Phone", "Partner"], n),
        "customer_id": rng.integers(1, 900, n), "customer_segment": rng.choice(
            ["Consumer", "Corporate", "Home office"], n),
        "product_category": rng.choice(["Furniture", "Office supplies", "Technology",
                                        "Garden", "Kitchen"], n),
        "product_name": rng.choice([f"Product {i}" for i in range(400)], n),
        "shipping_method": rng.choice(["Standard", "Express", "Same day"], n),
        "payment_type": rng.choice(["Card", "Invoice", "Cash", "Voucher"], n),
        "coupon_used": rng.choice([True, False], n),
        "returned": rng.choice([True, False], n, p=[0.08, 0.92]),
    })
    measures = ["quantity", "unit_price", "revenue", "discount", "cost", "profit",
                "delivery_days", "rating", "lifetime_value", "tax", "shipping_cost",
                "weight_kg", "basket_size", "visits_before_order", "support_tickets",
                "margin_pct", "loyalty_points", "items_returned", "promo_spend",
                "satisfaction_score", "review_length", "page_views", "minutes_on_site",
                "warehouse_distance_km", "previous_orders"]
    for i, name in enumerate(measures[:COLUMNS - len(frame.columns)]):
        frame[name] = np.round(rng.gamma(2.0 + i % 5, 10.0 + i, n), 2)
    path = work_dir / "orders.parquet"
    frame.to_parquet(path, index=False)
    return path


def _ask_conversation(tables: list[Any], actor: Any) -> list[Any]:
    from services.claude import ask

    used: list[Any] = []
    history: list[Any] = []
    for question in QUESTIONS:
        result = ask.ask(question, tables, history, actor=actor)
        if result.status != "answered":
            raise RuntimeError(f"Ask did not answer {question!r}: {result.error}")
        used += result.usage
        history.append(result.as_turn())
    return used


def _bench_ask(work_dir: Path, fake: Any, actor: Any) -> dict[str, Any]:
    from services.claude.ask import AskTable
    from services.data.profile import profile_dataset
    from services.data.sql_names import read_columns

    path = _wide_dataset(work_dir)
    table = AskTable(sql_name="orders", display_name="Orders", parquet_path=path,
                     columns=read_columns(path), profile=profile_dataset(path))
    figures = {}
    for name, switch in (("cached", nullcontext()), ("uncached", _caching_off())):
        fake.reset()
        with switch:
            used = _ask_conversation([table], actor)
        figures[name] = used
    cached, uncached = _input_cost(figures["cached"]), _input_cost(figures["uncached"])
    calls = figures["cached"]
    return {"ratio": cached / uncached, "cached": cached, "uncached": uncached,
            "calls": len(calls), "read": sum(u.cache_read_tokens for u in calls),
            "written": sum(u.cache_write_tokens for u in calls),
            "input": sum(u.input_tokens for u in figures["uncached"])}


def _template_body() -> str:
    rule = ("Read the customer's review below and classify it. Say whether the customer is "
            "happy, which part of the service the review is about (delivery, product, price, "
            "support or other), and quote the shortest phrase that shows it. ")
    chars = TEMPLATE_TOKENS * 4
    text = (rule * (chars // len(rule) + 1))[:chars]
    return f"{text}\n\nReview ({{product}}, {{stars}} stars):\n{{review}}"


def _enrichment(actor: Any, label: str) -> list[Any]:
    from services.claude import client as claude
    from services.prompts import jobs, runner, templates
    from services.prompts.sources import UnitInput
    from services.prompts.templates import OutputField, TemplateDraft

    template = templates.create_template(actor, TemplateDraft(
        name=f"B14 {label}", body=_template_body(), model=ENRICH_MODEL, max_tokens=100,
        system_prompt="You classify customer reviews for a retail analyst.",
        output_fields=[OutputField(name="happy", type="yes_no"),
                       OutputField(name="topic", type="category",
                                   choices=["delivery", "product", "price", "support",
                                            "other"]),
                       OutputField(name="evidence")]))
    review = ("The parcel came two days late and the box was dented, but the chair itself is "
              "sturdy and comfortable; assembly took twenty minutes. ")
    units = [UnitInput(key=f"row:{n}", label=f"Row {n}",
                       values={"product": f"Product {n % 400}", "stars": str(1 + n % 5),
                               "review": f"{review * (1 + n % 3)} (order {n})"})
             for n in range(ENRICH_ROWS)]
    job = jobs.create_job(actor.username, kind="batch", title=f"B14 {label}",
                          template_id=template.id, template_version=1, model=ENRICH_MODEL,
                          concurrency=CONCURRENCY, source={}, units=units, estimated_cost=0)
    used: list[Any] = []
    claude.set_usage_sink(used.append)  # the runner hands each saved call's usage to it
    try:
        thread_runner = runner.ThreadRunner()
        thread_runner.submit(job.id)
        if not thread_runner.wait(job.id, timeout=600):
            raise RuntimeError("the enrichment did not finish within 10 minutes")
    finally:
        claude.set_usage_sink(None)
    if len(used) != ENRICH_ROWS:
        raise RuntimeError(f"{len(used)} of {ENRICH_ROWS} calls recorded")
    return used


def _bench_enrichment(fake: Any, actor: Any) -> dict[str, Any]:
    figures = {}
    for name, switch in (("cached", nullcontext()), ("uncached", _caching_off())):
        fake.reset()
        fake.script([{"tool_use": {"name": "record_answer", "input": {
            "happy": False, "topic": "delivery", "evidence": "came two days late"}}}])
        with switch:
            figures[name] = _enrichment(actor, name)
    calls = figures["cached"]
    cached, uncached = _input_cost(calls), _input_cost(figures["uncached"])
    return {"ratio": cached / uncached, "cached": cached, "uncached": uncached,
            "writes": sum(1 for u in calls if u.cache_write_tokens),
            "hour": sum(u.cache_write_1h_tokens for u in calls),
            "read": sum(u.cache_read_tokens for u in calls),
            "prompt": max(u.input_tokens for u in figures["uncached"])}


def run(work_dir: Path) -> dict[str, dict]:
    from services.access import users
    from services.access.permissions import Role
    from services.access.users import NewUser
    from services.settings import DEFAULT_PRICES
    from tests.fakes.claude_server import FakeClaude

    prices = {**DEFAULT_PRICES, ENRICH_MODEL: DEFAULT_PRICES["claude-sonnet-4-6"]}
    with FakeClaude() as fake, _environment({
            **ENV, "ANTHROPIC_BASE_URL": fake.base_url,
            "RESEARCH_DESK_PRICES": json.dumps(prices),
            "RESEARCH_DESK_DATA_DIR": str(work_dir / "data"),
            "RESEARCH_DESK_SECRETS_FILE": str(work_dir / "no-secrets.toml")}):
        admin = users.create_first_admin(NewUser(username="bench", name="Bench",
                                                 password="orange-kettle-42", role=Role.ADMIN))
        asked = _bench_ask(work_dir, fake, admin)
        enriched = _bench_enrichment(fake, admin)
    return {
        "B14 Ask input cost cached / uncached": {
            "value": asked["ratio"], "target": ASK_TARGET, "unit": "× uncached",
            "ok": asked["ratio"] <= ASK_TARGET,
            "detail": (f"{TURNS} turns over {COLUMNS} columns, {asked['calls']} calls "
                       "(plan + answer per turn; the answer is sent on its own, without "
                       f"the schema), default model: US$ {asked['cached']:.4f} "
                       f"vs {asked['uncached']:.4f} uncached ({asked['input']:,} input "
                       f"tokens); {asked['read']:,} tokens read from the cache, "
                       f"{asked['written']:,} written")},
        "B14 enrichment input cost cached / uncached": {
            "value": enriched["ratio"], "target": ENRICH_TARGET, "unit": "× uncached",
            "ok": enriched["ratio"] <= ENRICH_TARGET,
            "detail": (f"{ENRICH_ROWS} rows, {TEMPLATE_TOKENS:,}-token template with an "
                       f"output shape ({enriched['prompt']:,} tokens a call uncached), "
                       f"{CONCURRENCY} at a time on {ENRICH_MODEL}: US$ "
                       f"{enriched['cached']:.4f} vs {enriched['uncached']:.4f}; "
                       f"{enriched['writes']} call wrote the prefix (1-hour time to live: "
                       f"{enriched['hour']:,} tokens), the rest read it. On Sonnet 4.6 or "
                       "Haiku 4.5 this prefix is below the minimum and is sent as before")},
    }
