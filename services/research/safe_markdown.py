"""Notes people write in Markdown, made safe to render: formatting stays, but raw HTML,
scripts and links that are not web or mail addresses show as the text that was typed.

Streamlit already refuses raw HTML unless told otherwise; this goes further so a note
reads the same everywhere: `<script>` is shown, not dropped, and a `javascript:` link
(or an image that would fetch a remote file) is shown as its Markdown text.
"""

import html
import re

_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
_CODE_SPAN = re.compile(r"(`+)(.+?)\1")
_LINK = re.compile(r"(!?)\[([^\[\]\n]*)\]\(\s*<?([^)\s>]*)>?([^)\n]*)\)")
_REFERENCE_DEFINITION = re.compile(r"^([ \t]{0,3})\[([^\]\n]*)\]:\s*<?(\S*?)>?(\s.*)?$")
_SAFE_SCHEMES = ("http://", "https://", "mailto:", "#")
_HEADING = re.compile(r"^( {0,3})(#{1,6})(?=\s|$)")


def is_safe_link(url: str) -> bool:
    """Only web, mail and same-page links: entities and spaces cannot hide a scheme."""
    plain = re.sub(r"[\x00-\x20\\]", "", html.unescape(url)).lower()
    return plain.startswith(_SAFE_SCHEMES)


def _link(match: re.Match) -> str:
    bang, text, url = match.group(1), match.group(2), match.group(3)
    if not bang and is_safe_link(url):
        return match.group(0)
    shown = f"{bang}[{text}]({url}{match.group(4)})"
    return re.sub(r"([\[\]()!])", r"\\\1", shown)


def _plain_part(text: str) -> str:
    text = text.replace("<", "&lt;")  # shown as "<", never parsed as HTML or an autolink
    return _LINK.sub(_link, text)


def _line(line: str) -> str:
    definition = _REFERENCE_DEFINITION.match(line)
    if definition and not is_safe_link(definition.group(3)):
        return "\\" + line.lstrip()
    out: list[str] = []
    last = 0
    for span in _CODE_SPAN.finditer(line):
        out.append(_plain_part(line[last:span.start()]))
        out.append(span.group(0))  # code shows as typed anyway
        last = span.end()
    out.append(_plain_part(line[last:]))
    return "".join(out)


def _shifted(line: str, shift: int) -> str:
    """A heading `shift` levels lower (at most level 6), so notes sit under the page's own
    headings: "# Findings" under "Notes" becomes a level-3 heading with shift=2."""
    if not shift:
        return line
    return _HEADING.sub(lambda m: m.group(1) + "#" * min(6, len(m.group(2)) + shift), line)


def notes_markdown(text: str, *, shift_headings: int = 0) -> str:
    """`text` ready for `st.markdown` (code blocks and code spans are left as typed);
    `shift_headings` moves its headings down that many levels."""
    lines: list[str] = []
    fence: str | None = None
    for line in text.splitlines():
        opening = _FENCE.match(line)
        if fence is not None:
            lines.append(line)
            if opening and opening.group(1)[0] == fence[0] and \
                    len(opening.group(1)) >= len(fence):
                fence = None
            continue
        if opening:
            fence = opening.group(1)
            lines.append(line)
            continue
        lines.append(_shifted(_line(line), shift_headings))
    return "\n".join(lines)
