"""Pieces of an Ask answer: the result table with a safe CSV download, the chart, "How this
was computed" (SQL, attempts and repairs) and "Save to research item".

Everything here draws what the Ask service decided and stored: the chart spec it chose, the
SQL it laid out for reading. Nothing here parses SQL or picks a chart."""

import pandas as pd
import streamlit as st

from components import add_to_board, save_to_item, tables
from components.text import escape_markdown, model_markdown
from services.access.users import UserView
from services.charts import ask_chart
from services.charts.spec import ChartSpec
from services.claude.ask import SqlAttempt
from services.claude.conversations import MessageView
from services.claude.grounded import GroundedCheck
from services.data.dataset_files import frame_csv_bytes
from services.data.display_text import has_time_zone
from services.data.snapshots import kept_rows_note
from services.data.time_zone import TIME_ZONE_NOTE
from services.errors import ResearchDeskError
from services.logs import report_unexpected
from services.research.saved_insights import NewInsight


def rows_sentence(shown: int, total_rows: int, *, counted: bool = True) -> str:
    """How many rows the table shows of how many (`counted` False: reading stopped at
    `total_rows`, and the answer has more)."""
    if not counted:
        return (f"Showing the first {shown:,} rows; the answer has more than {total_rows:,}, "
                f"and reading stops at {total_rows:,}.")
    if total_rows > shown:
        return f"Showing the first {shown:,} of {total_rows:,} rows."
    return f"{total_rows:,} row{'s' if total_rows != 1 else ''}."


def show_table(frame: pd.DataFrame, total_rows: int, *, key: str,
               kept_note: str = "", counted: bool = True) -> None:
    """The rows, how many there are, and a CSV download that spreadsheets cannot run."""
    st.caption(rows_sentence(len(frame), total_rows, counted=counted) + kept_note.rstrip())
    if frame.empty:
        return
    tables.dataframe(frame, hide_index=True, width="stretch")
    if has_time_zone(frame):
        st.caption(TIME_ZONE_NOTE)
    st.download_button(
        "Download these rows (CSV)", frame_csv_bytes(frame), file_name="answer.csv",
        mime="text/csv", key=f"{key}_csv", icon=":material/download:", on_click="ignore",
        help="A spreadsheet file of the rows shown above. Cells that start like a formula "
             "get a leading ' so the spreadsheet shows them instead of running them.")


def show_chart(frame: pd.DataFrame, spec: ChartSpec | None, *, key: str,
               note: str = "") -> None:
    """The chart the Ask service chose for this answer (none when it chose none), and the
    service's `note` on how it chose (e.g. Claude's suggestion did not fit the result)."""
    if spec is None or frame.empty:
        return
    cannot_draw = "This result could not be drawn as a chart; the table above has it all."
    try:
        chart = ask_chart.build_chart(frame, spec)
    except ResearchDeskError:  # expected: these rows do not fit this chart
        st.caption(cannot_draw)
        return
    except Exception as error:  # a bug: logged with its traceback; the answer's table stays
        reference = report_unexpected(error, where="ask_chart",
                                      user=st.session_state.get("username"))
        st.caption(f"{cannot_draw} Something went wrong on our side (reference {reference}).")
        return
    st.plotly_chart(chart.figure, key=f"{key}_chart", width="stretch")
    st.caption(escape_markdown(chart.summary))
    for line in (note, chart.note):
        if line:
            st.caption(escape_markdown(line))


def show_how(sql: str | None, attempts: list[SqlAttempt], explanation: str,
             tables: dict[str, str], *, elapsed_ms: float | None = None) -> None:
    """The SQL that ran (as laid out for reading by the service), what it does in words,
    and any attempts that failed on the way."""
    with st.expander("How this was computed", icon=":material/code:"):
        if explanation:
            st.markdown(escape_markdown(explanation))
        if tables:
            st.caption("Tables: " + "; ".join(f"{name} = {escape_markdown(label)}"
                                              for name, label in tables.items()))
        if sql:
            # Plain, wrapped text: Streamlit's SQL colours fail WCAG contrast on the light
            # theme, and a horizontally scrolling block cannot be reached by keyboard.
            st.code(sql, language=None, wrap_lines=True)
            if elapsed_ms is not None:
                st.caption(f"The query ran in {elapsed_ms:,.0f} ms in a locked-down sandbox "
                           "that can only read the datasets picked above.")
        failed = [a for a in attempts if a.error]
        if failed:
            verb = "attempts did not work and were" if len(failed) != 1 else \
                "attempt did not work and was"
            st.markdown(f"**{len(failed)} {verb} sent back to Claude to fix:**")
            for number, attempt in enumerate(failed, start=1):
                st.caption(f"Attempt {number}: {escape_markdown(attempt.error or '')}")
                st.code(attempt.sql, language=None, wrap_lines=True)


def show_answer(user: UserView, message: MessageView, question: str, *,
                frame: pd.DataFrame | None = None, dataset_id: int | None = None,
                dataset_ids: list[int] | None = None,
                with_text: bool = True) -> None:
    """An assistant turn as stored (`frame`: the full rows, if this session has them;
    `with_text=False` when the answer's words were already streamed above)."""
    details = message.details
    if message.content and with_text:
        st.markdown(answer_markdown(message.content, details.grounded))
    if message.content:
        show_check(details.grounded)
    if details.error and details.error != message.content:
        st.warning(escape_markdown(details.error), icon=":material/warning:")
    rows = frame if frame is not None else message.snapshot_frame()
    key = f"ask_msg_{message.id}"
    if message.status == "answered":
        total = message.row_count or len(rows)
        counted = details.rows_counted
        show_table(rows, total, key=key, counted=counted,
                   kept_note=" " + kept_rows_note(total, len(message.rows), counted=counted))
        show_chart(rows, details.chart, key=key, note=details.chart_note)
        add_to_board.for_answer(user, message, question, rows, key=key, dataset_id=dataset_id)
    show_how(message.readable_sql, details.attempts, details.explanation, details.tables,
             elapsed_ms=details.elapsed_ms)
    if message.status == "answered":
        show_save(user, key=key, question=question, answer=message.content, sql=message.sql,
                  chart=details.chart, tables=details.tables, grounded=details.grounded,
                  row_count=message.row_count or len(rows), data=rows, dataset_id=dataset_id,
                  dataset_ids=dataset_ids)


def answer_markdown(text: str, check: GroundedCheck | None) -> str:
    """An answer's text, safe to render, with the numbers its check flagged highlighted."""
    return model_markdown(text, check.spans if check is not None else None)


def show_check(check: GroundedCheck | None) -> None:
    """The one sentence under an answer whose numbers were not all found in its result."""
    if check is not None and check.sentence:
        st.caption(f":orange[:material/flag:] {escape_markdown(check.sentence)}")


def show_save(user: UserView, *, key: str, question: str, answer: str, sql: str | None,
              chart: ChartSpec | None, tables: dict[str, str], row_count: int,
              data: pd.DataFrame, dataset_id: int | None,
              dataset_ids: list[int] | None = None,
              grounded: GroundedCheck | None = None) -> None:
    """"Save to research item" for one answer: the question, answer, SQL, chart and rows."""
    save_to_item.show(
        user, key=f"{key}_save", title=question, data=data,
        make_insight=lambda item_id: NewInsight(
            item_id=item_id, kind="answer", title=question, summary=answer,
            spec={"question": question, "sql": sql,
                  "chart": chart.model_dump() if chart else None, "tables": tables,
                  "row_count": row_count, "dataset_ids": list(dataset_ids or []),
                  "grounded": grounded.model_dump(mode="json") if grounded else None},
            dataset_id=dataset_id))
