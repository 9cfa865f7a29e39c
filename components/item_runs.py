"""The prompt runs saved on a research item, newest first: for the item page.

    item_runs.show(user, item_id, key="item_runs",
                   may_run=services.prompts.item_runs.can_run_on_item(user, item))
"""

import streamlit as st

from components.feedback import empty_state
from components.text import escape_markdown, model_markdown, number, when
from services.access.users import UserView
from services.prompts import item_runs


def show(user: UserView, item_id: int, *, key: str, may_run: bool, limit: int = 20,
         link_to_lab: bool = True) -> None:
    """`may_run`: whether this person may run a template on the item (otherwise the empty
    state says who may, rather than pointing to a run they would be refused)."""
    runs = item_runs.runs_for_item(user, item_id)
    if not runs:
        if not may_run:
            empty_state("No Claude runs on this item yet.", hint=item_runs.WHO_MAY_RUN)
            return
        if not link_to_lab:
            empty_state("No Claude runs on this item yet.", hint="Run a template on it above.")
            return
        empty_state("No Claude runs on this item yet.",
                    hint="Open the Prompt lab to run a template on it.")
        st.page_link("pages/prompt_lab.py", label="Open the Prompt lab",
                     icon=":material/science:")
        return
    for run in runs[:limit]:
        status = "" if run.status == "succeeded" else f" · {run.status}"
        label = (f"{when(run.created_at)} · {run.model} · template v{run.template_version}"
                 f"{status}")
        with st.expander(escape_markdown(label), expanded=False):
            if run.fields:
                for name, value in run.fields.items():
                    st.markdown(f"**{escape_markdown(name)}**: {escape_markdown(str(value))}")
            elif run.output:
                st.markdown(model_markdown(run.output))
            if run.error:
                st.error(escape_markdown(run.error), icon=":material/error:")
            st.caption(f"{number(run.input_tokens)} tokens in, {number(run.output_tokens)} out"
                       f" · {run.latency_ms / 1000:.1f} s · about ${run.cost_estimate:,.4f}")
    if len(runs) > limit:
        st.caption(f"Showing the newest {limit} of {len(runs):,} runs.")
