"""Notes in Markdown: formatting stays, HTML, scripts and unsafe links show as text."""

import pytest

from services.reports.html_report import markdown_html
from services.research.safe_markdown import is_safe_link, notes_markdown


@pytest.mark.parametrize("url", ["javascript:alert(1)", "JaVaScRiPt:alert(1)",
                                 " javascript:alert(1)", "java&#115;cript:alert(1)",
                                 "java\tscript:alert(1)", "data:text/html;base64,PHNjcmlwdD4=",
                                 "vbscript:msgbox", "file:///etc/passwd"])
def test_unsafe_links_are_refused(url: str) -> None:
    assert not is_safe_link(url)
    shown = notes_markdown(f"[click]({url})")
    assert "](" not in shown.replace("\\](", "")  # no live link left
    assert 'href="' not in markdown_html(f"[click]({url})")


@pytest.mark.parametrize("url", ["https://example.org/a?b=c", "http://x.y", "mailto:a@b.c",
                                 "#notes"])
def test_web_mail_and_page_links_stay_links(url: str) -> None:
    assert is_safe_link(url)
    assert notes_markdown(f"[ok]({url})") == f"[ok]({url})"
    assert f'href="{url}"' in markdown_html(f"[ok]({url})")


def test_html_scripts_images_and_reference_links_show_as_text() -> None:
    text = ("<script>alert(1)</script>\n<img src=x onerror=alert(1)>\n"
            "![tracker](https://evil.example/p.png)\n[ref]: javascript:alert(3)\n"
            "<javascript:alert(4)>")
    shown = notes_markdown(text)
    assert "<script" not in shown and "<img" not in shown and "<javascript" not in shown
    assert "&lt;script>" in shown and "\\!\\[tracker\\]" in shown
    assert shown.splitlines()[3].startswith("\\[ref]:")
    html = markdown_html(text)
    assert "<script" not in html and "<img" not in html and "&lt;script&gt;" in html


def test_code_is_left_as_typed_and_formatting_stays() -> None:
    text = "**bold** and `<b>` code\n```\n<script>in a block</script>\n```\n- a list"
    shown = notes_markdown(text)
    assert "**bold**" in shown and "`<b>`" in shown and "<script>in a block</script>" in shown
    assert "- a list" in shown


def test_ten_thousand_lines_are_handled_quickly() -> None:
    import time

    text = "\n".join(f"- line {n} with [a link](https://example.org/{n}) and <b>" for n in
                     range(10_000))
    started = time.perf_counter()
    shown = notes_markdown(text)
    markdown_html(text)
    assert time.perf_counter() - started < 60  # a guard against runaway patterns, not a benchmark
    assert shown.count("\n") == 9_999 and "<b>" not in shown
