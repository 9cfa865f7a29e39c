"""What a reader's Markdown renderer would make live in a piece of Markdown we produce.

`live_markup` renders it with markdown-it (CommonMark + tables + strikethrough, as Streamlit,
GitHub and Jupyter read it) and then does what their autolinkers (remark-gfm, cmark-gfm,
marked) do to plain text: a bare `http://…`, `www.…` or `name@host.org` outside code becomes
a link, even when its characters were backslash-escaped. The browser test checks the same
thing in Streamlit itself."""

import html
import re

from markdown_it import MarkdownIt

_MD = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])
_CODE = re.compile(r"<code[^>]*>.*?</code>", re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
_AUTOLINK = re.compile(r"(?i)https?://|www\.|[-.\w+]+@[-\w]+\.[-\w]")


def rendered_html(markdown: str) -> str:
    return _MD.render(markdown)


def visible_text(markdown: str) -> str:
    """What a reader sees, code included, with runs of spaces made one."""
    page = re.sub(r"</?(?:code|strong|em|s)>", "", rendered_html(markdown))
    return " ".join(html.unescape(_TAG.sub(" ", page)).split())


def live_markup(markdown: str) -> list[str]:
    """Every link, image, raw HTML element or autolinkable address in `markdown`."""
    page = rendered_html(markdown)
    found = re.findall(r"<(?:a|img|script|iframe)\b[^>]*>", page)
    outside_code = html.unescape(_TAG.sub(" ", _CODE.sub(" ", page)))
    return found + _AUTOLINK.findall(outside_code)
