"""The Usage page's "How well Ask answers" section, for admins: the latest `make eval`
report (accuracy, unanswered questions, tokens, cost and time per model). Call `show(user)`
at the end of the page; it shows nothing to anyone else."""

import pandas as pd
import streamlit as st

from components import tables
from components.text import escape_markdown, when
from services.access.permissions import can
from services.access.users import UserView
from services.claude import evaluation


def show(user: UserView) -> None:
    if not can(user.role, "read_evaluation"):
        return
    st.header("How well Ask answers")
    report = evaluation.latest_report(user)
    if report is None:
        st.caption("No evaluation has been run yet. On the server, “make eval” asks Ask a set "
                   "of questions whose answers are known and shows here how many it got "
                   "right; the README's “Evaluating Ask” section says how to add your own.")
        return
    asked = len({o.id for o in report.outcomes})
    st.caption(escape_markdown(
        f"The latest evaluation, {when(report.made_at)}: {asked} questions answered by "
        f"{report.against}. “Could not answer” counts questions where every query Ask tried "
        "was refused or failed."))
    if report.rehearsal:
        st.info("This was a rehearsal with a stand-in for Claude: it shows the evaluation "
                "works, not how well Claude answers. Set an API key and run “make eval” "
                "again to measure Claude.", icon=":material/info:")
    tables.dataframe(pd.DataFrame(evaluation.score_rows(report), columns=evaluation.HEADERS),
                     hide_index=True, width="stretch")
    if report.stopped:
        st.warning(escape_markdown(report.stopped), icon=":material/savings:")
