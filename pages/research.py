"""Research: every item I may read, searched, filtered, sorted and paged; create, edit,
archive and delete (owner or admin)."""

import streamlit as st

from components import item_form, role_note
from components.feedback import empty_state, flash, friendly_errors, show_flash
from components.session import require_page
from components.text import escape_markdown, when
from services.access import item_access
from services.access.permissions import can
from services.research import items
from services.research.items import PAGE_SIZES, STATUS_LABELS, STATUSES, ItemInput, ItemQuery

user = require_page("research")
may_create = can(user.role, "save_insight")
EDITING = "research_editing"  # id of the item whose edit panel is open
PAGE = "research_page"
SCOPES = {"all": "All I can see", "mine": "Mine", "shared": "Shared with me"}
SORTS = {"updated": "Recently updated", "created": "Recently created", "title": "Title A–Z"}
STATUS_COLORS = {"idea": "blue", "active": "orange", "done": "green", "archived": "gray"}

st.title("Research")
st.write("Research items are the questions your team works on: notes, and the charts and "
         "answers saved from Explore and Ask. Open one to read it or export it.")
role_note.show(user, page="research")
show_flash()


def _first_page() -> None:
    st.session_state[PAGE] = 1


@st.cache_data(ttl=60, max_entries=200, show_spinner=False)
def cached_choices(username: str, state: str) -> tuple[list[str], list[str]]:
    """Tags and owners for the filters, kept while no item changes anywhere."""
    return items.list_tags(user), items.list_owners(user)


def _changed() -> None:
    cached_choices.clear()


def _create() -> None:
    with st.expander("New research item", icon=":material/add:",
                     expanded=st.session_state.get("research_new_open", False)):
        changes = item_form.show(key="research_new", submit_label="Create item")
        if changes is None:
            return
        with friendly_errors("research_create"):
            item = items.create_item(user, ItemInput(**changes.model_dump()))
            _changed()
            st.switch_page("pages/research_item.py", query_params={"id": str(item.id)})


def _query() -> ItemQuery:
    search_column, scope_column, sort_column = st.columns([3, 2, 2])
    text = search_column.text_input(
        "Search", key="research_search", placeholder="Words in titles, descriptions, notes "
        "or tags", on_change=_first_page,
        help="Finds items whose title, description, notes or tags contain these words.")
    scope = scope_column.selectbox("Show", list(SCOPES), format_func=SCOPES.__getitem__,
                                   key="research_scope", on_change=_first_page)
    sort = sort_column.selectbox("Sort by", list(SORTS), format_func=SORTS.__getitem__,
                                 key="research_sort", on_change=_first_page)
    status_column, tag_column, owner_column, archived_column = st.columns([3, 2, 2, 2])
    statuses = status_column.multiselect(
        "Show statuses", STATUSES, format_func=STATUS_LABELS.__getitem__, key="research_statuses",
        on_change=_first_page, placeholder="Any status except archived")
    tags, owners = cached_choices(user.username, items.list_state())
    tag = tag_column.selectbox("With tag", tags, index=None, key="research_tag",
                               placeholder="Any tag", on_change=_first_page)
    owner = owner_column.selectbox("Owner", owners, index=None,
                                   key="research_owner", placeholder="Anyone",
                                   on_change=_first_page)
    archived = archived_column.toggle("Include archived", key="research_archived",
                                      on_change=_first_page,
                                      help="Archived items are hidden unless you ask for them.")
    return ItemQuery.model_validate({
        "text": text, "scope": scope, "sort": sort, "statuses": statuses, "tag": tag,
        "owner": owner, "include_archived": archived, "page": st.session_state.get(PAGE, 1),
        "page_size": st.session_state.get("research_page_size", 20)})


def _edit_panel(item: items.ItemSummary) -> None:
    with st.container(border=True):
        st.subheader(f"Edit “{escape_markdown(item.title)}”")
        changes = item_form.show(key=f"research_edit_{item.id}", item=item)
        if changes is not None:
            with friendly_errors("research_edit"):
                items.update_item(user, item.id, changes)
                _changed()
                st.session_state.pop(EDITING, None)
                flash(f"“{item.title}” is saved.")
                st.rerun()
        archive_column, delete_column, close_column = st.columns(3)
        if item.status != "archived" and archive_column.button(
                "Archive", key="research_archive", icon=":material/archive:",
                help="Keeps the item but hides it from the list unless “Include archived” "
                     "is on."):
            with friendly_errors("research_archive"):
                items.archive_item(user, item.id)
                st.session_state.pop(EDITING, None)
                flash(f"“{item.title}” is archived.")
                st.rerun()
        with delete_column.popover("Delete…", icon=":material/delete:"):
            with friendly_errors("research_delete_summary"):
                st.warning(escape_markdown(items.deletion_summary(user, item.id).sentence()),
                           icon=":material/warning:")
                if st.button("Delete for good", key="research_delete", type="primary"):
                    items.delete_item(user, item.id)
                    _changed()
                    st.session_state.pop(EDITING, None)
                    flash(f"“{item.title}” is deleted.")
                    st.rerun()
        if close_column.button("Close", key="research_edit_close"):
            st.session_state.pop(EDITING, None)
            st.rerun()


def _row(item: items.ItemSummary) -> None:
    with st.container(border=True):
        title_column, facts_column, action_column = st.columns([5, 4, 1])
        title_column.page_link("pages/research_item.py", label=escape_markdown(item.title),
                               icon=":material/article:", query_params={"id": str(item.id)})
        if item.description:
            title_column.caption(escape_markdown(item.description[:200]))
        badges = [f":{STATUS_COLORS[item.status]}-badge[{STATUS_LABELS[item.status]}]",
                  ":green-badge[:material/group: Shared]" if item.is_shared
                  else ":gray-badge[:material/lock: Private]"]
        badges += [f":violet-badge[{escape_markdown(tag)}]" for tag in item.tags[:6]]
        saved = f"{item.insight_count:,} chart{'s' if item.insight_count != 1 else ''} or " \
                f"answer{'s' if item.insight_count != 1 else ''}"
        facts_column.markdown(" ".join(badges) + f"  \n:gray[{escape_markdown(item.owner)} · "
                              f"updated {when(item.updated_at)} · {saved}]")
        if item_access.can_change(user, item) and action_column.button(
                "Edit", key=f"research_edit_open_{item.id}", icon=":material/edit:",
                help="Change, archive or delete"):
            st.session_state[EDITING] = item.id
            st.rerun()
    if st.session_state.get(EDITING) == item.id:
        _edit_panel(item)


def _pager(page: items.ItemPage) -> None:
    left, middle, right, size_column = st.columns([1, 2, 1, 2], vertical_alignment="center")
    if left.button("Previous", key="research_previous", disabled=page.page <= 1,
                   icon=":material/chevron_left:"):
        st.session_state[PAGE] = page.page - 1
        st.rerun()
    middle.markdown(f"**{page.range_text()}** · page {page.page:,} of {page.pages:,}")
    if right.button("Next", key="research_next", disabled=page.page >= page.pages,
                    icon=":material/chevron_right:"):
        st.session_state[PAGE] = page.page + 1
        st.rerun()
    size_column.selectbox("Items per page", PAGE_SIZES, index=PAGE_SIZES.index(20),
                          key="research_page_size", on_change=_first_page)


if may_create:
    _create()

with friendly_errors("research_list"):
    query = _query()
    page = items.search_items(user, query)
    st.session_state[PAGE] = page.page
    if not page.total:
        is_filtered = bool(query.text or query.statuses or query.tag or query.owner
                           or query.scope != "all")
        if is_filtered:
            empty_state("No items match these filters.",
                        hint="Clear the search or pick other filters.")
        elif may_create:
            empty_state("No research items yet.",
                        hint="Open “New research item” above to start one, or save a chart "
                             "from Explore.")
        else:
            empty_state("No research items are shared with you yet.",
                        hint="When colleagues share items, they appear here.")
    for item in page.items:
        _row(item)
    if page.total:
        _pager(page)
