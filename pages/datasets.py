"""Datasets: everything I may see, uploading a file, the built-in samples, and adding a
table of a connected database (live or as a snapshot)."""

import streamlit as st

from components import add_from_database, read_options, role_note, sample_picker, upload_memory
from components.feedback import empty_state, friendly_errors
from components.session import require_page
from components.text import escape_markdown, file_size, number, when
from services.access.permissions import can
from services.data import datasets, ingest, uploads
from services.data.uploads import ACCEPTED, ACCEPTED_WORDS, EXCEL_EXTENSIONS

user = require_page("datasets")
may_upload = can(user.role, "upload_data")

st.title("Datasets")
st.write("Your own datasets and the ones colleagues share with you.")
role_note.show(user, page="datasets")


PENDING = "datasets_pending_upload"  # the picked file, saved on disk: id, name, size, path
CREATED = "datasets_created"  # (file id, dataset id, name) made from the last picked file


def _discard_pending() -> None:
    pending = st.session_state.pop(PENDING, None)
    if pending is not None:
        uploads.discard_upload(pending["path"])


def _handled_file_ids() -> set[str | None]:
    """The picked file waiting to be read, and the one a dataset was already made from."""
    return {st.session_state.get(PENDING, {}).get("id"),
            st.session_state.get(CREATED, (None,))[0]}


def _upload() -> None:
    file = st.file_uploader(
        "Choose a file",
        type=list(ACCEPTED),
        key="datasets_upload",
        help=f"{ACCEPTED_WORDS}; text files in any separator and encoding. Large files are "
        "fine: they are streamed to disk.",
    )
    if file is not None and file.file_id not in _handled_file_ids():
        _discard_pending()
        st.session_state.pop(CREATED, None)
        with friendly_errors("datasets_save_upload"):
            path = uploads.save_upload(file, file.name, file.size)
            same = datasets.find_identical_upload(user, path)
            st.session_state[PENDING] = {"id": file.file_id, "name": file.name,
                                         "size": file.size, "path": path,
                                         "same_as": (same.id, same.name) if same else None}
        upload_memory.release(file)  # on disk now: Streamlit's in-memory copy can go
    pending = st.session_state.get(PENDING)
    if pending is None:
        if CREATED in st.session_state:  # a second click must not make a second dataset
            _already_added(*st.session_state[CREATED][1:])
        return
    file_id, file_name, file_size_bytes, path = (pending["id"], pending["name"],
                                                 pending["size"], pending["path"])
    if not path.is_file():  # removed as abandoned, or after it was read
        del st.session_state[PENDING]
        return
    if pending.get("same_as"):
        _identical(*pending["same_as"])
    if "sheets" not in pending and file_name.lower().endswith(EXCEL_EXTENSIONS):
        with friendly_errors("datasets_sheets"):  # read once per file, in a child process
            pending["sheets"] = ingest.list_sheets(path)
    sheets = pending.get("sheets")
    name = st.text_input(
        "Dataset name",
        value=uploads.default_dataset_name(file_name),
        max_chars=uploads.MAX_DATASET_NAME,
        key=f"datasets_name_{file_id}",
    )
    options = read_options.show(key="datasets_read", sheets=sheets)
    create_column, cancel_column = st.columns([1, 4])
    if cancel_column.button("Choose another file", key="datasets_cancel_upload"):
        _discard_pending()
        st.rerun()
    if not create_column.button("Create dataset", type="primary", key="datasets_create"):
        return
    with friendly_errors("datasets_create"):
        with st.status("Reading your file…", expanded=True) as box:
            st.write(f"Reading “{escape_markdown(file_name)}” ({file_size(file_size_bytes)}) "
                     "and checking its columns…")
            view, result = datasets.create_from_upload(
                user, path, original_name=file_name, name=name, options=options
            )
            st.session_state[CREATED] = (file_id, view.id, view.name)
            box.update(label=f"“{escape_markdown(view.name)}” is ready", state="complete",
                       expanded=False)
        st.success(
            escape_markdown(f"“{view.name}” is ready: {number(result.rows)} rows and "
                            f"{len(result.columns)} columns. "
                            f"{read_options.describe(result.detected)}"),
            icon=":material/check_circle:",
        )
        for warning in result.warnings:
            st.warning(escape_markdown(warning), icon=":material/info:")
        st.page_link(
            "pages/dataset.py",
            label=f"Open “{escape_markdown(view.name)}”",
            icon=":material/arrow_forward:",
            query_params={"id": str(view.id)},
        )
        _discard_pending()


def _identical(dataset_id: int, raw_name: str) -> None:
    name = escape_markdown(raw_name)
    st.info(f"This file is identical to the one “{name}” was made from, so you can open that "
            "dataset instead. To add it again anyway (say, read with other options), go on "
            "below.", icon=":material/content_copy:")
    st.page_link("pages/dataset.py", label=f"Open “{name}”", icon=":material/arrow_forward:",
                 query_params={"id": str(dataset_id)})


def _already_added(dataset_id: int, raw_name: str) -> None:
    name = escape_markdown(raw_name)
    st.info(f"This file was already added as “{name}”. To add it again, choose the file once "
            "more.", icon=":material/info:")
    st.page_link("pages/dataset.py", label=f"Open “{name}”", icon=":material/arrow_forward:",
                 query_params={"id": str(dataset_id)})


if may_upload:
    upload_tab, sample_tab, database_tab = st.tabs(
        ["Upload a file", "Try a sample dataset", "Add from a database"])
    with upload_tab:
        _upload()
    with sample_tab:
        sample_picker.show(user, key="datasets_sample")
    with database_tab:
        add_from_database.show(user, key="datasets_db")

with friendly_errors("datasets_list"):
    st.header("All datasets")
    mine_only = st.toggle("Only mine", key="datasets_mine", help="Hide datasets shared by others.")
    listed = datasets.list_datasets(user, mine_only=mine_only)
    if not listed:
        hint = (
            "Upload a file, try a sample dataset or add a table from a database in the tabs "
            "above."
            if may_upload
            else "Ask a colleague to share a dataset with you."
        )
        empty_state("No datasets yet.", hint=hint)
    for dataset in listed:
        with st.container(border=True):
            title_column, facts_column, status_column = st.columns([3, 4, 2])
            title_column.page_link(
                "pages/dataset.py",
                label=escape_markdown(dataset.name),
                icon=":material/table_view:",
                query_params={"id": str(dataset.id)},
            )
            if dataset.description:
                title_column.caption(escape_markdown(dataset.description[:160]))
            if dataset.is_live:  # no versions, no file: its rows are where it lives
                facts_column.markdown(escape_markdown(add_from_database.where_words(dataset)))
            else:
                facts_column.markdown(
                    f"{number(dataset.rows)} rows · {number(dataset.columns)} columns · "
                    f"{dataset.versions} version{'s' if dataset.versions != 1 else ''} · "
                    f"{file_size(dataset.bytes)}"
                )
            facts_column.caption(f"Owner: {dataset.owner} · updated {when(dataset.updated_at)}")
            if dataset.is_shared:
                status_column.badge("Shared", icon=":material/group:", color="green")
            else:
                status_column.badge("Private", icon=":material/lock:", color="gray")
