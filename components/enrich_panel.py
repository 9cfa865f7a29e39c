"""The Prompt lab's "Enrich a dataset" tab: pick a dataset, a template with an output shape,
the columns that feed it and the rows; see what it costs (and what is reused for free);
start; follow its progress; open the new version or chart it in Explore."""

import streamlit as st

from components import batch_progress, row_choice
from components.feedback import empty_state, flash, friendly_errors
from components.text import escape_markdown
from services.access import dataset_access
from services.access.users import UserView
from services.charts.spec import ChartSpec, spec_to_query_params
from services.data import datasets
from services.prompts import enrich, jobs, message_batches, sources, templates
from services.prompts.enrich import EnrichPlan, EnrichRequest
from services.settings import get_settings

DATASET = "lab_enrich_dataset"
PLAN = "lab_enrich_plan"
OPEN = "lab_enrich_open"
DONE = "lab_enrich_done"  # (dataset id, column to chart) of a version made at once


def _request(user: UserView, dataset_id: int, version: templates.TemplateVersionView,
             ) -> EnrichRequest:
    columns = sources.dataset_columns(user, dataset_id)
    st.markdown("**Which columns does Claude read?**")
    inputs: dict[str, str] = {}
    for variable in version.variables:
        chosen = st.selectbox(
            f"Column for {{{escape_markdown(variable)}}}", columns,
            index=columns.index(variable) if variable in columns else None,
            placeholder="Pick a column", key=f"lab_enrich_col_{dataset_id}_{variable}",
            help="Each row's value in this column is filled into the prompt.")
        if chosen:
            inputs[variable] = chosen
    selection = row_choice.rows_of(dataset_id, columns, "lab_enrich", hint="Rows you leave "
                                   "out get missing values in the new columns.")
    concurrency = row_choice.calls_at_once("lab_enrich")
    return EnrichRequest(template_id=version.template_id, rows=selection, inputs=inputs,
                         concurrency=concurrency)


def explore_link(dataset_id: int, chart_column: str) -> None:
    """Explore on the dataset's current version, with a bar chart of `chart_column`."""
    spec = ChartSpec(chart_type="bar", x=chart_column) if chart_column else None
    params = {"dataset": str(dataset_id), **(spec_to_query_params(spec) if spec else {})}
    st.page_link("pages/explore.py", label="Open in Explore", icon=":material/bar_chart:",
                 query_params=params)
    st.page_link("pages/dataset.py", label="Open the dataset", icon=":material/table_view:",
                 query_params={"id": str(dataset_id)})


def _start(user: UserView, request: EnrichRequest, plan: EnrichPlan) -> None:
    st.info(plan.sentence, icon=":material/payments:")
    confirmed = True
    if plan.calls >= message_batches.OFFERED_FROM_UNITS:  # a copy: the estimate stays current
        request = request.model_copy()
        request.use_message_batches = st.checkbox(
            "Use the Message Batches API (half price, the columns arrive within hours)",
            key="lab_enrich_api", help="For large enrichments that need not finish now. "
            "The new version is made when Claude has worked through every row.")
    if plan.needs_confirmation:
        confirmed = st.checkbox("I accept this cost", key="lab_enrich_confirm")
    if st.button("Add the columns", key="lab_enrich_start", type="primary",
                 icon=":material/add_column_right:",
                 help="Starts in the background and makes a new version when it finishes; "
                      "the version you see stays as it is.", disabled=not confirmed or (
                     plan.cost is not None and not get_settings().has_claude_key)):
        with friendly_errors("lab_enrich_start"):
            outcome = enrich.start_enrichment(user, request, confirmed=confirmed)
            st.session_state.pop(PLAN, None)
            if outcome.job is not None:
                st.session_state[OPEN] = outcome.job.id
            else:
                st.session_state[DONE] = (plan.dataset_id, plan.chart_column)
            flash(outcome.message)
            st.rerun()


def _finished(user: UserView, job_id: int) -> None:
    job = jobs.get_job(user, job_id)
    number = enrich.new_version_of(job)
    if number is not None:
        st.success(f"Version {number} is ready: open it in Explore or on the dataset page.",
                   icon=":material/check_circle:")  # what it holds is the caption above
        explore_link(int(job.source["dataset_id"]), str(job.source.get("chart_column", "")))
        return
    if job.status in jobs.ACTIVE:
        return
    done = jobs.progress(user, job_id).done
    if done and st.button("Save the results so far as a new version",
                          key=f"lab_enrich_save_{job_id}", icon=":material/save:",
                          help="Rows without a result get missing values; you can add them "
                               "later without paying again."):
        with friendly_errors("lab_enrich_save"):
            saved = enrich.save_results_so_far(user, job_id)
            flash(saved.message)
            st.rerun()


def _my_enrichments(user: UserView) -> None:
    mine = [j for j in jobs.list_jobs(user) if j.kind == enrich.KIND]
    made = st.session_state.get(DONE)
    if made is not None:
        explore_link(made[0], made[1])
    if not mine:
        return
    st.subheader("My enrichments")
    batch_progress.pick_and_follow(user, mine, label="Enrichment", key="lab_enrich",
                                   open_key=OPEN, after=lambda job_id: _finished(user, job_id))


def show(user: UserView, all_templates: list[templates.TemplateView]) -> None:
    st.write("Claude reads chosen columns of each row and fills in your template's output "
             "fields; they become new columns of a new version of the dataset. Rows that "
             "already have an answer from the same template version and model cost nothing.")
    shaped = [t for t in all_templates if t.latest.output_fields]
    changeable = [d for d in datasets.list_datasets(user) if dataset_access.can_change(user, d)]
    if not changeable:
        empty_state("No dataset you can change.", hint="Upload one on the Datasets page.")
    elif not shaped:
        empty_state("No template with an output shape yet.",
                    hint="On the Templates tab, add output fields (e.g. category and reason).")
    else:
        names = {d.id: d.name for d in changeable}
        dataset_id = st.selectbox("Dataset", list(names), format_func=names.__getitem__,
                                  key=DATASET)
        titles = {t.id: f"{t.name} (v{t.current_version})" for t in shaped}
        template_id = st.selectbox("Template (with an output shape)", list(titles),
                                   format_func=titles.__getitem__, key="lab_enrich_template",
                                   help="Only templates with output fields are listed: each "
                                        "field becomes a column.")
        version = next(t.latest for t in shaped if t.id == template_id)
        fields = ", ".join(f"{f.name} ({templates.FIELD_TYPE_LABELS[f.type]})"
                           for f in version.output_fields)
        st.caption("New columns from its fields: " + escape_markdown(fields))
        request: EnrichRequest | None = None
        with friendly_errors("lab_enrich_form"):
            request = _request(user, dataset_id, version)
            if st.button("Estimate cost", key="lab_enrich_estimate",
                         icon=":material/calculate:",
                         help="Says how many rows will be sent and what it may cost; sends "
                              "nothing."):
                st.session_state.pop(DONE, None)
                st.session_state[PLAN] = (request, enrich.plan_enrichment(user, request))
        planned = st.session_state.get(PLAN)
        if planned is not None and planned[0] != request:  # the choices changed since
            st.session_state.pop(PLAN, None)
            planned = None
        if planned is not None:
            _start(user, *planned)
    _my_enrichments(user)


def running_on_dataset(user: UserView, dataset_id: int) -> None:
    """On a Dataset page: the progress of this person's enrichments of it, as they run."""
    for job in enrich.running_for_dataset(user, dataset_id):

        @st.fragment(run_every=batch_progress.REFRESH_S)
        def panel(job_id: int = job.id) -> None:
            with friendly_errors(f"dataset_enrich_{job_id}"):
                batch_progress.show_progress(user, job_id, key=f"dataset_enrich_{job_id}")
                _finished(user, job_id)

        panel()
