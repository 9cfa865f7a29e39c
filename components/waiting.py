"""Waiting for slow work (a Claude call) without freezing the page: the work runs in a
helper thread while this run keeps showing how long it has waited. Each update is a point
where Streamlit can stop this run, so a click on "Stop" (or any other widget) takes effect
within a fraction of a second instead of after the call returns."""

import queue
import threading
import time
from collections.abc import Callable
from typing import TypeVar

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

T = TypeVar("T")
POLL_S = 0.25


def wait_for(work: Callable[[], T], *, label: str,
             cancel_event: threading.Event | None = None,
             note: DeltaGenerator | None = None) -> T:
    """`work()`'s result (or its exception), showing `label` and the seconds waited in `note`
    (an `st.empty()`; a new one here when not given). If this run is stopped meanwhile,
    `cancel_event` is set so the work can give up early."""
    box: dict[str, object] = {}
    done = threading.Event()

    def run() -> None:
        try:
            box["value"] = work()
        except BaseException as error:  # handed to the page's thread below
            box["error"] = error
        finally:
            done.set()

    threading.Thread(target=run, name="research-desk-wait", daemon=True).start()
    note = note if note is not None else st.empty()
    started = time.monotonic()
    try:
        while not done.wait(POLL_S):
            note.caption(f"{label} ({time.monotonic() - started:,.0f} s)")
    finally:
        if not done.is_set() and cancel_event is not None:
            cancel_event.set()  # this run was stopped (Stop, or the page was left)
        note.empty()
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["value"]  # type: ignore[return-value]


Hook = Callable[[str], None]


def follow(work: Callable[[Hook, Hook, threading.Event], T], *, note: DeltaGenerator,
           show_text: Hook) -> T:
    """`work(on_step, on_text, cancel_event)`'s result (or its exception), run in a helper
    thread. What it reports is drawn here, in the page's thread: each step's label and the
    seconds spent on it in `note`, text chunks through `show_text`. If this run is stopped
    meanwhile (Stop, or the page was left), `cancel_event` is set."""
    events: queue.SimpleQueue[tuple[str, str]] = queue.SimpleQueue()
    cancel = threading.Event()
    box: dict[str, object] = {}
    done = threading.Event()

    def run() -> None:
        try:
            box["value"] = work(lambda step: events.put(("step", step)),
                                lambda text: events.put(("text", text)), cancel)
        except BaseException as error:  # handed to the page's thread below
            box["error"] = error
        finally:
            done.set()
            events.put(("done", ""))

    threading.Thread(target=run, name="research-desk-follow", daemon=True).start()
    label, started, finished = "", time.monotonic(), False
    try:
        while not finished:
            try:
                kind, value = events.get(timeout=POLL_S)
            except queue.Empty:
                kind, value = "tick", ""
            if kind == "step":
                label, started = value, time.monotonic()
            elif kind == "text":
                show_text(value)
            finished = kind == "done"
            if label and not finished:
                note.caption(f"{label} ({time.monotonic() - started:,.0f} s)")
            else:
                note.empty()
    finally:
        if not done.is_set():
            cancel.set()  # this run was stopped: the work gives up and stores nothing
        note.empty()
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["value"]  # type: ignore[return-value]
