"""`follow`: work in a helper thread, its steps and words drawn in the page's own thread."""

from streamlit.testing.v1 import AppTest


def _page() -> None:
    import threading

    import streamlit as st

    from components.waiting import follow

    fail = bool(st.session_state.get("fail"))  # read here: the helper thread has no session

    def work(on_step, on_text, cancel: threading.Event) -> str:  # noqa: ANN001
        on_step("Thinking…")
        for word in ("Five ", "rows ", "found."):
            on_text(word)
        if fail:
            raise ValueError("broken")
        return "done" if not cancel.is_set() else "cancelled"

    words: list[str] = []
    area = st.empty()

    def show(chunk: str) -> None:
        words.append(chunk)
        area.markdown("".join(words))

    try:
        st.write(follow(work, note=st.empty(), show_text=show))
    except ValueError as error:
        st.error(str(error))


def test_follow_draws_the_words_in_order_and_returns_the_result() -> None:
    at = AppTest.from_function(_page, default_timeout=30).run()
    assert not at.exception
    assert [m.value for m in at.markdown][:2] == ["Five rows found.", "done"]
    assert not at.caption  # the waiting note is gone once the work is done


def test_follow_hands_the_works_error_to_the_page() -> None:
    at = AppTest.from_function(_page, default_timeout=30)
    at.session_state["fail"] = True
    at.run()
    assert [e.value for e in at.error] == ["broken"]
