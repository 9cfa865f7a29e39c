"""A research item: details, notes (Markdown, with history), linked datasets, the saved charts
and answers drawn again, Claude runs, and exports."""

import streamlit as st

from components import chat, item_form, item_runs, tables
from components.feedback import empty_state, flash, friendly_errors, show_flash
from components.params import id_from_text
from components.session import require_page
from components.text import escape_markdown, when
from services.claude.grounded import stored_check
from services.errors import NotFound
from services.prompts import item_runs as runs_service
from services.reports import item_export
from services.reports.bundle import live_line, read_at
from services.reports.insight_figure import DrawnInsight, draw
from services.research import insights, items, notes
from services.research.insights import InsightCard
from services.research.items import STATUS_LABELS, ItemDetail
from services.research.notes import NoteSave
from services.research.safe_markdown import safe_markdown

user = require_page("research_item")
INSIGHTS_PER_PAGE = 10
STATUS_COLORS = {"idea": "blue", "active": "orange", "done": "green", "archived": "gray"}


@st.cache_resource(max_entries=500, show_spinner=False)
def cached_draw(insight_id: int, saved_at: str, is_data_gone: bool, _card: InsightCard,
                ) -> DrawnInsight:
    """Insights never change once saved, so each is drawn once (per data-gone state). A
    resource cache hands out the same figure without copying it (unpickling a plotly figure
    costs ~70 ms); nothing on the page changes the figure or its table. The saving time is
    in the key too: a restored or new store numbers its insights from 1 again."""
    return draw(_card)


def _not_found(message: str) -> None:
    st.title("Research item not found")
    st.info(escape_markdown(message), icon=":material/search_off:")
    st.page_link("pages/research.py", label="Back to Research", icon=":material/science:")
    st.stop()


item_id = id_from_text(st.query_params.get("id"))
if item_id is None:
    st.title("Research item")
    empty_state("No research item chosen.", hint="Pick one on the Research page.")
    st.page_link("pages/research.py", label="Go to Research", icon=":material/science:")
    st.stop()

try:
    item = items.get_item(user, item_id)
except NotFound as missing:
    _not_found(str(missing))
    raise AssertionError("unreachable") from missing  # st.stop() raised already


def _header(item: ItemDetail) -> None:
    st.title(escape_markdown(item.title))
    show_flash()
    badges = [f":{STATUS_COLORS[item.status]}-badge[{STATUS_LABELS[item.status]}]",
              ":green-badge[:material/group: Shared with everyone]" if item.is_shared
              else ":gray-badge[:material/lock: Private]"]
    badges += [f":violet-badge[{escape_markdown(tag)}]" for tag in item.tags]
    st.markdown(" ".join(badges))
    st.caption(f"Owner: {escape_markdown(item.owner)} · created {when(item.created_at)} · "
               f"updated {when(item.updated_at)}")
    if item.description:
        st.write(escape_markdown(item.description))
    if not item.can_edit:
        return
    with st.expander("Edit details", icon=":material/edit:"):
        changes = item_form.show(key=f"research_item_edit_{item.id}", item=item)
        if changes is not None:
            with friendly_errors("research_item_edit"):
                items.update_item(user, item.id, changes)
                flash("The details are saved.")
                st.rerun()


def _exports(item: ItemDetail) -> None:
    stem = item_export.file_stem(item.title)
    st.markdown("**Export this item** — a report to share, or a notebook that redoes the "
                "analysis:")
    html_column, markdown_column, notebook_column = st.columns(3)
    html_column.download_button(
        "Report (HTML)", data=lambda: item_export.html_bytes(user, item.id),
        file_name=f"{stem}.html", mime="text/html", key="research_item_export_html",
        icon=":material/description:", on_click="ignore",
        help="One file that opens in any browser, offline: notes, every chart as a picture "
             "with its description and data table.")
    markdown_column.download_button(
        "Markdown and pictures (zip)", data=lambda: item_export.markdown_bytes(user, item.id),
        file_name=f"{stem}-markdown.zip", mime="application/zip",
        key="research_item_export_markdown", icon=":material/folder_zip:", on_click="ignore",
        help="A Markdown file with the charts as picture files beside it, for wikis and "
             "documents.")
    notebook_column.download_button(
        "Jupyter notebook (zip)", data=lambda: item_export.notebook_bytes(user, item.id),
        file_name=f"{stem}-notebook.zip", mime="application/zip",
        key="research_item_export_notebook", icon=":material/code:", on_click="ignore",
        help="A notebook that reloads the data, reruns each query with DuckDB and redraws "
             "each chart; the data files come with it. Needs Python with pandas, duckdb and "
             "plotly. Data that lives in a database is read there again: the notebook asks "
             "for its address, with your own account.")


NOTES_TEXT = "research_item_notes_text"
NOTES_BASE = "research_item_notes_base"
NOTES_EDITING = "research_item_notes_editing"
NOTES_PENDING = "research_item_notes_pending"  # text to put in the editor on the next run


def _start_editing(item: ItemDetail) -> None:
    st.session_state[NOTES_EDITING] = item.id
    st.session_state[NOTES_TEXT] = item.notes
    st.session_state[NOTES_BASE] = item.notes_version


def _save_notes(item: ItemDetail) -> None:
    with friendly_errors("research_item_notes"):
        saved = notes.save_notes(user, item.id, NoteSave(
            text=st.session_state.get(NOTES_TEXT, ""),
            base_version=st.session_state.get(NOTES_BASE, item.notes_version)))
        st.session_state[NOTES_BASE] = saved.version
        if saved.conflict:
            st.session_state[NOTES_PENDING] = (saved.text, saved.message)
            return
        st.session_state.pop(NOTES_EDITING, None)
        flash("The notes are saved.")


def _notes(item: ItemDetail) -> None:
    st.header("Notes")
    pending = st.session_state.pop(NOTES_PENDING, None)
    if pending is not None:
        st.session_state[NOTES_TEXT] = pending[0]
        st.warning(escape_markdown(pending[1]), icon=":material/merge:")
    if st.session_state.get(NOTES_EDITING) == item.id and item.can_edit:
        st.text_area("Notes (Markdown)", key=NOTES_TEXT, height=300,
                     help="Write in Markdown: **bold**, _italics_, lists with “-”, headings "
                          "with “#”, links as [text](https://…). HTML is shown as text.")
        save_column, cancel_column = st.columns([1, 5])
        save_column.button("Save notes", key="research_item_notes_save", type="primary",
                           on_click=_save_notes, args=(item,))
        if cancel_column.button("Stop editing", key="research_item_notes_cancel"):
            st.session_state.pop(NOTES_EDITING, None)
            st.rerun()
    else:
        if item.notes.strip():
            with st.container(border=True):
                st.markdown(safe_markdown(item.notes, shift_headings=2))
            if item.notes_updated_at:
                st.caption(f"Last saved by {escape_markdown(item.notes_updated_by or '')} on "
                           f"{when(item.notes_updated_at)}.")
        else:
            empty_state("No notes yet.", hint="Press “Edit notes” to write what you found." if
                        item.can_edit else "")
        if item.can_edit:
            st.button("Edit notes", key="research_item_notes_edit", icon=":material/edit_note:",
                      on_click=_start_editing, args=(item,))
    if item.notes_version:
        with st.expander("Edit history of the notes", icon=":material/history:"):
            for revision in notes.notes_history(user, item.id, limit=20):
                changes = f"{revision.added:,} line{'s' if revision.added != 1 else ''} " \
                          f"added, {revision.removed:,} removed"
                marker = " · both versions kept after a clash" if revision.conflict else ""
                st.markdown(f"**Version {revision.version}** — {escape_markdown(revision.author)}"
                            f", {when(revision.created_at)} · {changes}{marker}")
                if revision.diff:
                    st.code(revision.diff, language="diff", wrap_lines=True)


def _datasets(item: ItemDetail) -> None:
    linked = insights.linked_datasets(user, item.id)
    if not linked:
        return
    st.header("Datasets used")
    for entry in linked:
        used = f"{entry.insights:,} chart{'s' if entry.insights != 1 else ''} or answer" \
               f"{'s' if entry.insights != 1 else ''}"
        version = (f" · version {entry.versions[0]}" if len(entry.versions) == 1 else
                   f" · versions {', '.join(map(str, entry.versions[:-1]))} and "
                   f"{entry.versions[-1]}" if entry.versions else "")
        if entry.is_gone:
            st.markdown(f"- A deleted dataset{version} · {used} (shown from saved copies)")
        elif entry.name is None:
            st.markdown(f"- A dataset that is not shared with you{version} · {used}")
        elif entry.live is not None:
            st.page_link("pages/dataset.py", label=f"{escape_markdown(entry.name)} · "
                         f"{escape_markdown(entry.live.label)} · {used}",
                         icon=":material/database:", query_params={"id": str(entry.dataset_id)})
        else:
            st.page_link("pages/dataset.py", label=f"{escape_markdown(entry.name)}{version} · "
                         f"{used}", icon=":material/table_view:",
                         query_params={"id": str(entry.dataset_id)})


def _move(item: ItemDetail, insight_id: int, step: int) -> None:
    with friendly_errors("research_item_move"):
        insights.move_insight(user, item.id, insight_id, step)


def _remove(item: ItemDetail, insight_id: int, title: str) -> None:
    with friendly_errors("research_item_remove"):
        insights.remove_insight(user, item.id, insight_id)
        flash(f"“{title}” is removed from this item.")


def _insight(item: ItemDetail, card: InsightCard, total: int) -> None:
    drawn = cached_draw(card.id, card.created_at.isoformat(), card.is_data_gone, card)
    with st.container(border=True):
        st.subheader(escape_markdown(card.title))
        kind = "Answer from Ask" if card.kind == "answer" else "Chart from Explore"
        source = ""
        if card.is_data_gone:
            source = " · its dataset was deleted"
        elif card.live is not None and card.dataset_name:
            # a live table may change: the chart keeps the numbers read when it was saved
            source = (f" · {escape_markdown(card.dataset_name)}, "
                      f"{escape_markdown(live_line(card, when(read_at(card))))}")
        elif card.dataset_name:
            source = f" · {escape_markdown(card.dataset_name)}" + (
                f", version {card.dataset_version}" if card.dataset_version else "")
        elif card.dataset_names or card.hidden_datasets:
            names = [f"“{escape_markdown(n)}”" for n in card.dataset_names]
            if card.hidden_datasets:
                names.append(f"{card.hidden_datasets} not shared with you")
            source = " · from " + (", ".join(names[:-1]) + " and " + names[-1]
                                   if len(names) > 1 else names[0])
        st.caption(f"{kind}{source} · saved by {escape_markdown(card.created_by)} on "
                   f"{when(card.created_at)}")
        if drawn.note:
            st.info(escape_markdown(drawn.note), icon=":material/info:")
        if card.kind == "answer" and drawn.answer:
            check = stored_check(card.spec.get("grounded"))
            st.markdown(chat.answer_markdown(drawn.answer, check))
            chat.show_check(check)
        if drawn.figure is not None:
            st.plotly_chart(drawn.figure, theme="streamlit", alt=drawn.summary,
                            key=f"research_item_figure_{card.id}",
                            config={"displaylogo": False})
            st.caption(escape_markdown(drawn.summary))
        if drawn.sql:
            with st.expander("The SQL that was run"):
                st.code(drawn.sql, language="sql", wrap_lines=True)
        with st.expander("View the data"):
            tables.dataframe(drawn.table, hide_index=True)
        if not item.can_edit:
            return
        up, down, remove = st.columns([1, 1, 4])
        up.button("Move up", key=f"research_item_up_{card.id}", icon=":material/arrow_upward:",
                  disabled=card.position <= 1, on_click=_move, args=(item, card.id, -1))
        down.button("Move down", key=f"research_item_down_{card.id}",
                    icon=":material/arrow_downward:", disabled=card.position >= total,
                    on_click=_move, args=(item, card.id, 1))
        with remove.popover("Remove…", icon=":material/delete:"):
            st.write(f"Remove “{escape_markdown(card.title)}” from this item? The dataset is "
                     "not changed.")
            st.button("Remove", key=f"research_item_remove_{card.id}", type="primary",
                      on_click=_remove, args=(item, card.id, card.title))


def _insights(item: ItemDetail) -> None:
    st.header("Saved charts and answers")
    total = item.insight_count
    if not total:
        empty_state("Nothing saved here yet.", hint="In Explore or Ask, use “Save to research "
                    "item” to add a chart or an answer.")
        return
    pages = -(-total // INSIGHTS_PER_PAGE)
    page = 1
    if pages > 1:
        page = st.number_input(f"Page (of {pages:,})", min_value=1, max_value=pages, step=1,
                               key=f"research_item_insight_page_{item.id}",
                               help=f"{INSIGHTS_PER_PAGE} charts and answers are shown per "
                                    "page.")
    first = (page - 1) * INSIGHTS_PER_PAGE
    cards = insights.list_insights(user, item.id, offset=first, limit=INSIGHTS_PER_PAGE)
    st.caption(f"Showing {first + 1:,}–{first + len(cards):,} of {total:,}.")
    for card in cards:
        _insight(item, card, total)


def _runs(item: ItemDetail) -> None:
    st.header("Claude runs")
    item_runs.show(user, item.id, key=f"item_runs_{item.id}",
                   may_run=runs_service.can_run_on_item(user, item))


with friendly_errors("research_item"):
    _header(item)
    _exports(item)
    _notes(item)
    _datasets(item)
    _insights(item)
    _runs(item)
