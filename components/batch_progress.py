"""A batch's progress (done / failed / remaining, elapsed, time left, spend) with cancel, retry
and resume, read from the store so it survives leaving the page or restarting the app; and
its results table, filterable, downloadable as formula-safe CSV, savable to an item."""

from collections.abc import Callable
from datetime import timedelta

import streamlit as st

from components import save_to_item, tables
from components.feedback import friendly_errors
from components.text import escape_markdown, number
from services.access.users import UserView
from services.data.dataset_files import frame_csv_bytes
from services.prompts import batches, jobs
from services.prompts.jobs import JobView, Progress
from services.prompts.results import NUMBER_COLUMNS, results_frame
from services.research.saved_insights import NewInsight

REFRESH_S = 1.0
STATUS_WORDS = {"queued": "waiting to start", "running": "running",
                "finishing": "making the new version", "done": "finished",
                "failed": "stopped by an error", "cancelled": "stopped"}


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    return str(timedelta(seconds=round(seconds)))


def _actions(user: UserView, progress: Progress, key: str) -> None:
    job = progress.job
    columns = st.columns(3)
    if job.status in jobs.ACTIVE and not progress.is_interrupted:
        if columns[0].button("Cancel batch", key=f"{key}_cancel", icon=":material/stop:",
                             help="Calls under way finish and are kept; no new ones start."):
            with friendly_errors(f"{key}_cancel"):
                batches.cancel(user, job.id)
                st.rerun()
    if progress.is_interrupted or (job.status == "cancelled" and progress.cancelled):
        if columns[1].button("Resume batch", key=f"{key}_resume", type="primary",
                             icon=":material/play_arrow:",
                             help="Starts it again on this server now instead of waiting; "
                                  "sends only the calls that have no result yet."):
            with friendly_errors(f"{key}_resume"):
                batches.resume(user, job.id)
                st.rerun()
    if progress.failed and job.status not in jobs.ACTIVE:
        if columns[2].button(f"Retry {progress.failed:,} failed", key=f"{key}_retry",
                             icon=":material/replay:",
                             help="Sends the failed calls again; results already in are kept."):
            with friendly_errors(f"{key}_retry"):
                batches.retry_failed(user, job.id)
                st.rerun()


def _resuming(progress: Progress) -> str:
    """Any server carries on a batch whose server stopped; no one has to press Resume."""
    wait = round(jobs.stale_after_s())
    return (f"interrupted (its server stopped) — it carries on by itself within about "
            f"{wait:,} seconds")


def show_progress(user: UserView, job_id: int, *, key: str) -> Progress:
    progress = jobs.progress(user, job_id)
    job = progress.job
    state = _resuming(progress) if progress.is_interrupted else STATUS_WORDS.get(
        job.status, job.status)
    st.markdown(f"**{escape_markdown(job.title)}** · {state}")
    st.progress(progress.fraction,
                text=f"{progress.done + progress.failed:,} of {job.total_units:,} calls done")
    done, failed, remaining, elapsed, left, spend = st.columns(6)
    done.metric("Done", number(progress.done))
    failed.metric("Failed", number(progress.failed))
    remaining.metric("Remaining", number(progress.remaining + progress.cancelled))
    elapsed.metric("Elapsed", _duration(progress.elapsed_s))
    left.metric("Time left", _duration(progress.eta_s))
    spend.metric("Spend so far", f"${progress.spend:,.4f}",
                 help="Estimated from the price table; the invoice is the final word.")
    if job.message:
        st.caption(escape_markdown(job.message))
    _actions(user, progress, key)
    return progress


def show_results(user: UserView, job_id: int, *, key: str) -> None:
    units = jobs.list_units(user, job_id)
    frame = results_frame(units)
    if frame.empty:
        st.info("No results yet.", icon=":material/hourglass_empty:")
        return
    left, right = st.columns(2)
    statuses = left.multiselect("Show status", sorted(frame["Status"].unique()),
                                key=f"{key}_status", placeholder="All statuses")
    contains = right.text_input("Answer or input contains", key=f"{key}_contains",
                                help="Keeps rows whose input or answer contains this text.")
    shown = frame
    if statuses:
        shown = shown[shown["Status"].isin(statuses)]
    if contains.strip():
        text = shown.drop(columns=list(NUMBER_COLUMNS))
        mask = text.astype(str).apply(
            lambda col: col.str.contains(contains.strip(), case=False, regex=False)).any(axis=1)
        shown = shown[mask]
    tables.dataframe(shown, hide_index=True, width="stretch")
    st.caption(f"{len(shown):,} of {len(frame):,} results.")
    download, save = st.columns(2)
    download.download_button("Download CSV", frame_csv_bytes(shown),
                              file_name=f"batch-{job_id}-results.csv", mime="text/csv",
                              key=f"{key}_csv", icon=":material/download:",
                              help="Spreadsheet formulas in the text are neutralised.")
    with save:
        save_to_item.show(
            user, key=f"{key}_save", title=f"Batch {job_id} results", data=shown,
            make_insight=lambda item_id: NewInsight(
                item_id=item_id, kind="answer", title=f"Batch {job_id} results",
                summary=f"{len(shown):,} results of a prompt batch.",
                spec={"batch_job_id": job_id}))


def pick_and_follow(user: UserView, my_jobs: list[JobView], *, label: str, key: str,
                    open_key: str, after: Callable[[int], None] | None = None) -> int:
    """A picker of this person's jobs (the one last opened first) and the chosen job's
    progress, refreshed every second while it runs; `after` adds to the live panel. When a
    job that was running has finished, the whole page runs again: what it shows outside
    the panel (the results table, its CSV) was read while the job ran."""
    labels = {j.id: f"#{j.id} · {j.title}" for j in my_jobs}
    default = st.session_state.get(open_key, my_jobs[0].id)
    job_id = st.selectbox(label, list(labels), format_func=labels.__getitem__,
                          index=list(labels).index(default) if default in labels else 0,
                          key=f"{key}_job")
    live = next(j for j in my_jobs if j.id == job_id).status in jobs.ACTIVE

    @st.fragment(run_every=REFRESH_S if live else None)
    def panel() -> None:
        progress: Progress | None = None
        with friendly_errors(f"{key}_progress"):
            progress = show_progress(user, job_id, key=key)
            if after is not None:
                after(job_id)
        if live and progress is not None and progress.job.status not in jobs.ACTIVE:
            st.rerun()

    panel()
    return job_id
