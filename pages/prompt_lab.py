"""Prompt lab: reusable prompt templates, a single run on a research item, batch runs over
items or dataset rows in the background, and the same prompt on several models side by side."""

from typing import Any

import pandas as pd
import streamlit as st

from components import batch_progress, enrich_panel, item_runs, row_choice
from components.feedback import empty_state, flash, friendly_errors, show_flash
from components.session import require_page
from components.text import escape_markdown, model_markdown, number
from services.claude import client as claude
from services.claude import wiring as claude_wiring
from services.data import datasets
from services.prompts import batches, compare, jobs, message_batches, sources, templates
from services.prompts import item_runs as runs_service
from services.prompts.batches import BatchRequest
from services.prompts.sources import ITEM_VARIABLES
from services.prompts.templates import FIELD_TYPE_LABELS, OutputField, TemplateDraft
from services.research import items as research_items
from services.settings import get_settings

claude_wiring.install()  # idempotent; AppTest runs this file without app.py
user = require_page("prompt_lab")

NEW = 0
PLAN = "lab_batch_plan"
OPEN_JOB = "lab_open_job"
TAB = "lab_tab"
FIELD_COLUMNS = ["name", "type", "choices", "description"]
FIELD_TYPES = {label: kind for kind, label in FIELD_TYPE_LABELS.items()}  # editor shows words


@st.cache_data(ttl=300, show_spinner=False)
def _models() -> list[str]:
    return claude.list_models()


def _fields_frame(fields: list[OutputField]) -> pd.DataFrame:
    rows = [{"name": f.name, "type": FIELD_TYPE_LABELS[f.type], "choices": ", ".join(f.choices),
             "description": f.description} for f in fields]
    return pd.DataFrame(rows, columns=FIELD_COLUMNS)


def _fields_from(frame: pd.DataFrame) -> list[OutputField]:
    fields = []
    for row in frame.fillna("").to_dict("records"):
        if not str(row["name"]).strip():
            continue
        choices = [c.strip() for c in str(row["choices"]).split(",") if c.strip()]
        kind: Any = FIELD_TYPES.get(row["type"], row["type"]) or "text"  # OutputField checks it
        fields.append(OutputField(name=str(row["name"]), type=kind,
                                  choices=choices, description=str(row["description"])))
    return fields


def _template_picker(all_templates: list[templates.TemplateView], key: str) -> int | None:
    if not all_templates:
        empty_state("No prompt templates yet.", hint="Make one on the Templates tab first.")
        return None
    names = {t.id: f"{t.name} (v{t.current_version})" for t in all_templates}
    return st.selectbox("Template", list(names), format_func=names.__getitem__, key=key)


# --- templates -----------------------------------------------------------------------------

def templates_tab(all_templates: list[templates.TemplateView]) -> None:
    names = {NEW: "New template…", **{t.id: t.name for t in all_templates}}
    chosen = st.selectbox("Template to edit", list(names), format_func=names.__getitem__,
                          key="lab_edit_template")
    current = next((t.latest for t in all_templates if t.id == chosen), None)
    models = _models()
    model = current.model if current else get_settings().model
    with st.form(f"lab_template_form_{chosen}"):
        name = st.text_input("Name", value=current.name if current else "")
        system = st.text_area("System prompt (optional)",
                              value=current.system_prompt if current else "",
                              help="Standing instructions for Claude, e.g. its role or tone.")
        body = st.text_area(
            "Prompt", value=current.body if current else "", height=160,
            help="Write {title}, {description}, {notes} (the item's notes), {insights} "
                 "(its list of insights), {tags}, {status} or {dataset_summary} for a "
                 "research item, or {column name} for a dataset row. Type {{ or }} for a "
                 "brace itself.")
        left, middle, right = st.columns(3)
        model = left.selectbox("Model", sorted({*models, model}),
                               index=sorted({*models, model}).index(model))
        temperature = middle.number_input(
            "Temperature", min_value=0.0, max_value=1.0, step=0.1,
            value=float(current.temperature) if current else 1.0,
            help="From 0 to 1: lower is more focused and repeatable; higher is more varied.")
        max_tokens = right.number_input(
            "Maximum answer length (tokens)", min_value=1, max_value=templates.MAX_MAX_TOKENS,
            value=current.max_tokens if current else 1024,
            help="About ¾ of a word per token. Longer answers cost more.")
        st.markdown("**Output shape** (optional): named fields Claude must fill in.")
        edited = st.data_editor(
            _fields_frame(current.output_fields if current else []), num_rows="dynamic",
            hide_index=True, key=f"lab_fields_{chosen}",
            column_config={
                "name": st.column_config.TextColumn("Field name", default="", help="Letters, "
                                                    "digits, spaces; becomes a column in "
                                                    "results."),
                "type": st.column_config.SelectboxColumn(
                    "Type", options=list(FIELD_TYPES), default=FIELD_TYPE_LABELS["text"],
                    help="Text, a number, a category from the choices, or yes/no."),
                "choices": st.column_config.TextColumn(
                    "Choices (for a category)", default="",
                    help="Separate the choices with commas."),
                "description": st.column_config.TextColumn("What it means (optional)",
                                                           default="")})
        saved = st.form_submit_button("Save as a new version" if current else "Create template",
                                      type="primary")
    if saved:
        with friendly_errors("lab_template_save"):
            draft = TemplateDraft(name=name, body=body, system_prompt=system, model=model,
                                  temperature=float(temperature), max_tokens=int(max_tokens),
                                  output_fields=_fields_from(edited))
            if current is None:
                made = templates.create_template(user, draft)
                flash(f"Template “{made.name}” created.")
            else:
                made = templates.update_template(user, current.template_id, draft)
                flash(f"Saved “{made.name}” as version {made.current_version}.")
            st.session_state.pop("lab_edit_template", None)
            st.rerun()
    if current is not None:
        st.caption(f"Version {current.version}, by {escape_markdown(current.created_by)}. "
                   "Every save makes a new version; runs keep the version they used.")


# --- single run ----------------------------------------------------------------------------

def run_tab(all_templates: list[templates.TemplateView]) -> None:
    template_id = _template_picker(all_templates, "lab_run_template")
    if template_id is None:
        return
    items = research_items.list_items(user)
    if not items:
        empty_state("No research items yet.", hint="Save a chart or answer to an item first.")
        return
    titles = {i.id: i.title for i in items}
    item_id = st.selectbox("Research item", list(titles), format_func=titles.__getitem__,
                           key="lab_run_item")
    chosen = next(i for i in items if i.id == item_id)
    may_run = runs_service.can_run_on_item(user, chosen)
    preview_col, run_col = st.columns(2)
    if preview_col.button("Preview", key="lab_preview", icon=":material/visibility:",
                          help="Shows the filled-in prompt, its size and cost; sends nothing."):
        with friendly_errors("lab_preview"):
            shown = runs_service.preview_on_item(user, template_id, item_id)
            st.text_area("The prompt Claude will get", shown.prompt, disabled=True)
            how = "counted by Claude's API" if shown.is_counted else "a rough estimate"
            cost = ("unknown" if shown.cost_estimate is None
                    else f"at most ${shown.cost_estimate:,.4f}")
            st.caption(f"{number(shown.input_tokens)} tokens in ({how}); estimated cost "
                       f"{cost} with the longest allowed answer.")
    if not may_run:  # a run is saved on the item: someone else's is only theirs to change
        run_col.caption(escape_markdown(runs_service.WHO_MAY_RUN))
    elif run_col.button("Run on this item", key="lab_run", type="primary",
                        icon=":material/play_arrow:",
                        disabled=not get_settings().has_claude_key):
        with friendly_errors("lab_run"):
            st.write_stream(runs_service.run_on_item(user, template_id, item_id))
            st.success("Saved on the item.", icon=":material/check_circle:")
    st.subheader("Runs on this item")
    with friendly_errors("lab_item_runs"):
        item_runs.show(user, item_id, key="lab_item_runs", may_run=may_run, link_to_lab=False)


# --- batches -------------------------------------------------------------------------------

def _batch_request(template_id: int) -> BatchRequest | None:
    source = st.radio("Run it over", ["Research items", "Rows of a dataset"], horizontal=True,
                      key="lab_batch_source")
    concurrency = row_choice.calls_at_once("lab_batch")
    if source == "Research items":
        items = research_items.list_items(user)
        titles = {i.id: i.title for i in items}
        every = st.checkbox(f"All my visible items ({len(items):,})", key="lab_batch_all")
        chosen = list(titles) if every else st.multiselect(
            "Items", list(titles), format_func=titles.__getitem__, key="lab_batch_items")
        st.caption(f"Item variables: {', '.join('{' + v + '}' for v in ITEM_VARIABLES)}")
        return BatchRequest(template_id=template_id, item_ids=chosen,
                            concurrency=concurrency)
    visible = datasets.list_datasets(user)
    if not visible:
        empty_state("No datasets yet.", hint="Upload one on the Datasets page.")
        return None
    names = {d.id: d.name for d in visible}
    dataset_id = st.selectbox("Dataset", list(names), format_func=names.__getitem__,
                              key="lab_batch_dataset")
    columns = sources.dataset_columns(user, dataset_id)
    st.caption("Columns you can use: " + escape_markdown(", ".join("{" + c + "}"
                                                                  for c in columns)))
    selection = row_choice.rows_of(dataset_id, columns, "lab_batch")
    return BatchRequest(template_id=template_id, rows=selection, concurrency=concurrency)


def batch_tab(all_templates: list[templates.TemplateView]) -> None:
    template_id = _template_picker(all_templates, "lab_batch_template")
    if template_id is not None:
        with friendly_errors("lab_batch_form"):
            request = _batch_request(template_id)
            if request is not None and st.button("Estimate cost", key="lab_batch_estimate",
                                                 icon=":material/calculate:"):
                st.session_state[PLAN] = (request, batches.plan_batch(user, request))
        planned = st.session_state.get(PLAN)
        if planned is not None:
            request, plan = planned
            st.info(plan.cost_sentence, icon=":material/payments:")
            confirmed = True
            if plan.units >= message_batches.OFFERED_FROM_UNITS:
                request.use_message_batches = st.checkbox(
                    "Use the Message Batches API (half price, results within hours)",
                    key="lab_batch_api", help="For large batches that need not finish now. "
                    "Results arrive together when Claude has worked through them.")
            if plan.needs_confirmation:
                confirmed = st.checkbox("I accept this cost", key="lab_batch_confirm")
            if st.button("Start batch", key="lab_batch_start", type="primary",
                         icon=":material/play_arrow:", disabled=not confirmed):
                with friendly_errors("lab_batch_start"):
                    job = batches.start_batch(user, request, confirmed=confirmed)
                    st.session_state.pop(PLAN, None)
                    st.session_state[OPEN_JOB] = job.id
                    flash("The batch has started. You can leave this page; it carries on.")
                    st.rerun()
    st.subheader("My batches")
    my_jobs = jobs.list_jobs(user)
    if not my_jobs:
        empty_state("No batches yet.", hint="Choose a template and items above, then start one.")
        return
    job_id = batch_progress.pick_and_follow(user, my_jobs, label="Batch", key="lab_batch",
                                            open_key=OPEN_JOB)
    with friendly_errors("lab_batch_results"):
        batch_progress.show_results(user, job_id, key="lab_results")


# --- enrich a dataset ----------------------------------------------------------------------

def enrich_tab(all_templates: list[templates.TemplateView]) -> None:
    enrich_panel.show(user, all_templates)


# --- compare -------------------------------------------------------------------------------

def compare_tab(all_templates: list[templates.TemplateView]) -> None:
    template_id = _template_picker(all_templates, "lab_compare_template")
    items = research_items.list_items(user)
    if template_id is None or not items:
        if not items:
            empty_state("No research items yet.", hint="Comparisons run on an item.")
        return
    titles = {i.id: i.title for i in items}
    item_id = st.selectbox("Research item", list(titles), format_func=titles.__getitem__,
                           key="lab_compare_item")
    models = st.multiselect("Models (two or three)", _models(), max_selections=3,
                            key="lab_compare_models", default=_models()[:2])
    if st.button("Compare", key="lab_compare_run", type="primary",
                 disabled=not get_settings().has_claude_key):
        with friendly_errors("lab_compare"):
            results = compare.compare_on_item(user, template_id, item_id, models)
            for column, result in zip(st.columns(len(results)), results, strict=True):
                with column:
                    st.markdown(f"**{escape_markdown(result.model)}**")
                    if result.status == "succeeded":
                        st.markdown(model_markdown(result.output))
                    else:
                        st.error(escape_markdown(result.error or "Failed."))
                    st.caption(f"{number(result.input_tokens)} in · "
                               f"{number(result.output_tokens)} out · "
                               f"{result.latency_ms / 1000:.1f} s · "
                               f"about ${result.cost_estimate:,.4f}")


st.title("Prompt lab")
show_flash()
if not get_settings().has_claude_key:
    st.warning(claude.NO_KEY, icon=":material/key_off:")
with friendly_errors("prompt_lab"):
    every_template = templates.list_templates(user)
    # Only the open tab is drawn (and kept open across the reruns a batch's progress makes).
    sections = {"Templates": templates_tab, "Run on an item": run_tab,
                "Batch runs": batch_tab, "Enrich a dataset": enrich_tab,
                "Compare models": compare_tab}
    if st.query_params.get("enrich"):  # "Add columns with Claude" on a Dataset page
        chosen = st.query_params.pop("enrich")
        if chosen.isdigit():
            st.session_state[enrich_panel.DATASET] = int(chosen)
        st.session_state[TAB] = "Enrich a dataset"
    tabs = st.tabs(list(sections), key=TAB, on_change="rerun")
    for tab, draw in zip(tabs, sections.values(), strict=True):
        if tab.open:
            with tab:
                draw(every_template)
