"""The one door for text we did not write (notes, Claude's answers, dataset and column names,
cell values) into anything rendered as Markdown: the app, the HTML report, the Markdown zip
and the notebook's markdown cells.

Nothing in that text may make a reader's browser fetch or link anywhere. The text is parsed
with markdown-it-py and written back from its tokens, so only the constructs we emit exist in
the result: headings, lists, quotes, emphasis, code, tables and rules stay; an image becomes
its alt text (its address is dropped: a picture's address can carry data out); a link becomes
"text (`address`)"; raw HTML shows as typed; every other character that could start markup is
escaped.

Addresses are shown as inline code because Streamlit (remark-gfm), GitHub and Jupyter all
turn a bare `http://…`, `www.…` or `name@host.org` in plain text into a live link, even when
its characters are backslash-escaped, but none of them links inside code. Code also reads as
"this is an address" and copies exactly, which a broken form like `http[:]//` does not.
"""

import re
from dataclasses import dataclass

from markdown_it import MarkdownIt
from markdown_it.tree import SyntaxTreeNode

# Anything a Markdown renderer might turn into a link: a scheme followed by "//" (http://,
# ftp://), www.…, mailto: and xmpp: (GFM links those), or an e-mail address. Deliberately wider
# than GFM's own rule: a match only costs the reader a monospace font.
_ADDRESS = re.compile(
    r"[a-z][a-z0-9+.\-]*:/{2}[^\s<>]*"
    r"|www\d{0,3}\.[^\s<>]+"
    r"|(?<!\w)(?:mailto|xmpp):[^\s<>]+"
    r"|[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+",
    re.IGNORECASE)
_TRAILING = ".,;:!?'\""  # sentence punctuation after an address stays outside its code
# Escaped wherever they stand: emphasis, code, links, HTML, tables, strikethrough, Streamlit's
# LaTeX ($) and directives, entities (&#33;), emoji shortcodes (:smile:) and headings.
_SPECIAL = re.compile(r"[\\`*_\[\]<>|~$#]|&(?=[#A-Za-z])|:(?=[\w+\-/])")
# At the start of a line: list markers, setext underlines, "1." and "1)" ordered lists.
_LINE_START = re.compile(r"^(\s*)([-+=])(?=[\s\-=]|$)|^(\s*\d{1,9})([.)])(?=\s|$)")
_BACKTICKS = re.compile(r"`+")
_INFO = re.compile(r"^[\w+#.\-]{1,30}$")
# Spans to highlight (numbers an answer's check flagged) travel through the parser as two
# private-use characters and become markup only after every character of the text was
# escaped: the text itself never turns into markup. Inside code they are dropped.
MARK_OPEN, MARK_CLOSE = "\ue000", "\ue001"
_MARKED = re.compile("\ue000([^\ue000\ue001\n]*)\ue001")


def _parser() -> MarkdownIt:
    # Raw HTML stays text; tables and ~~strikethrough~~ are what Streamlit and GitHub add.
    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable(
        ["table", "strikethrough"])


_MD = _parser()


@dataclass
class _Inline:
    in_table: bool = False
    line_start: bool = True


def _code(text: str, in_table: bool) -> str:
    """`text` as an inline code span that no backtick inside it can close early."""
    text = _unmarked(text)
    if in_table:
        text = text.replace("|", "\\|")  # GFM splits table cells before it sees code
    fence = "`" * (max((len(run) for run in _BACKTICKS.findall(text)), default=0) + 1)
    pad = " " if text.startswith(("`", " ")) or text.endswith(("`", " ")) else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _escape(text: str, line_start: bool) -> str:
    escaped = _SPECIAL.sub(r"\\\g<0>", text)
    if not line_start:
        return escaped
    return _LINE_START.sub(lambda m: f"{m.group(1)}\\{m.group(2)}" if m.group(2)
                           else f"{m.group(3)}\\{m.group(4)}", escaped)


def _split_address(match: re.Match) -> tuple[str, str]:
    """The address, and the punctuation after it that belongs to the sentence."""
    address = match.group(0)
    tail = ""
    while address and (address[-1] in _TRAILING or
                       (address[-1] == ")" and address.count(")") > address.count("("))):
        address, tail = address[:-1], address[-1] + tail
    return address, tail


def _text(text: str, state: _Inline) -> str:
    """Plain text: addresses as code, markup characters escaped, so it shows as typed."""
    out: list[str] = []
    last = 0
    for match in _ADDRESS.finditer(text):
        address, tail = _split_address(match)
        if not address:
            continue
        out.append(_escape(text[last:match.start()], state.line_start and last == 0
                           and not out))
        out.append(_code(address, state.in_table))
        last = match.start() + len(address)
        out.append(_escape(tail, False))
        last += len(tail)
    out.append(_escape(text[last:], state.line_start and not out))
    rendered = "".join(out)
    if rendered:
        state.line_start = False
    return rendered


def plain_markdown(text: object, *, in_table: bool = False) -> str:
    """Text that must show exactly as typed (a name, a cell, a message): no markup at all.
    `in_table` keeps it on one line and inside its cell of a Markdown table."""
    lines = str(text).splitlines() or [""]
    if in_table:
        lines = [" ".join(" ".join(lines).split())]
    return "\n".join(_text(line, _Inline(in_table=in_table, line_start=not in_table))
                     for line in lines)


# --- Markdown written back from its tokens ------------------------------------------------


def _inline(node: SyntaxTreeNode, state: _Inline) -> str:
    parts: list[str] = []
    for child in node.children:
        kind = child.type
        if kind == "text":
            parts.append(_text(child.content, state))
        elif kind in ("softbreak", "hardbreak"):
            parts.append(" " if state.in_table else ("\\\n" if kind == "hardbreak" else "\n"))
            state.line_start = not state.in_table
        elif kind == "code_inline":
            parts.append(_code(child.content, state.in_table))
            state.line_start = False
        elif kind in ("em", "strong", "s"):
            inner = _inline(child, state)
            parts.append(f"{child.markup}{inner}{child.markup}" if inner else "")
        elif kind == "image":
            parts.append(_inline(child, state))  # the alt text; the address never leaves
        elif kind == "link":
            parts.append(_link(child, state))
        else:
            parts.append(_text(child.content, state))
    return "".join(parts)


def _link(node: SyntaxTreeNode, state: _Inline) -> str:
    address = _MD.normalizeLinkText(str(node.attrs.get("href") or ""))
    if node.markup == "autolink":
        shown = node.children[0].content if node.children else address
        state.line_start = False
        return _code(shown, state.in_table)
    inner = _inline(node, state)
    if not address:
        return inner
    state.line_start = False
    code = _code(address, state.in_table)
    return f"{inner} ({code})" if inner else code


def _fence(node: SyntaxTreeNode) -> str:
    content = _unmarked(node.content)
    content = content if content.endswith("\n") or not content else content + "\n"
    fence = "`" * max(3, max((len(run) for run in _BACKTICKS.findall(content)), default=0) + 1)
    info = node.info.split()[0] if node.type == "fence" and node.info.split() else ""
    return f"{fence}{info if _INFO.match(info) else ''}\n{content}{fence}"


def _list(node: SyntaxTreeNode, shift: int) -> str:
    tight = all(p.hidden for item in node.children for p in item.children
                if p.type == "paragraph")
    number = int(node.attrs.get("start", 1) or 1)
    rendered: list[str] = []
    for item in node.children:
        marker = f"{number}{node.markup} " if node.type == "ordered_list" else f"{node.markup} "
        number += 1
        lines = _blocks(item.children, shift, "\n" if tight else "\n\n").split("\n")
        rendered.append("\n".join(
            [(marker + lines[0]).rstrip()] +
            [(" " * len(marker) + line) if line else "" for line in lines[1:]]))
    return ("\n" if tight else "\n\n").join(rendered)


def _table(node: SyntaxTreeNode) -> str:
    rows = [row for part in node.children for row in part.children]
    if not rows:
        return ""
    align = {"text-align:left": ":---", "text-align:right": "---:",
             "text-align:center": ":---:"}

    def cells(row: SyntaxTreeNode) -> list[str]:
        return [_inline(cell.children[0], _Inline(in_table=True)) if cell.children else ""
                for cell in row.children]

    lines = ["| " + " | ".join(cells(rows[0])) + " |",
             "| " + " | ".join(align.get(str(c.attrs.get("style", "")), "---")
                               for c in rows[0].children) + " |"]
    lines += ["| " + " | ".join(cells(row)) + " |" for row in rows[1:]]
    return "\n".join(lines)


def _block(node: SyntaxTreeNode, shift: int) -> str:
    kind = node.type
    if kind == "paragraph":
        return _inline(node.children[0], _Inline()) if node.children else ""
    if kind == "heading":
        level = min(6, int(node.tag[1]) + shift)
        text = _inline(node.children[0], _Inline(line_start=False)) if node.children else ""
        return f"{'#' * level} {text}".rstrip()
    if kind in ("bullet_list", "ordered_list"):
        return _list(node, shift)
    if kind == "blockquote":
        return "\n".join(f"> {line}" if line else ">"
                         for line in _blocks(node.children, shift).split("\n"))
    if kind in ("fence", "code_block"):
        return _fence(node)
    if kind == "hr":
        return "***"
    if kind == "table":
        return _table(node)
    return plain_markdown(node.content)  # anything else (raw HTML) shows as typed


def _blocks(nodes: list[SyntaxTreeNode], shift: int, between: str = "\n\n") -> str:
    return between.join(part for part in (_block(n, shift) for n in nodes) if part)


def safe_markdown(text: str, *, shift_headings: int = 0) -> str:
    """Markdown from a person or from Claude, safe to render anywhere: its formatting stays,
    no image, link or HTML comes through, and addresses show as code. `shift_headings` moves
    headings down that many levels (notes sit under the page's own "Notes" heading)."""
    return _blocks(SyntaxTreeNode(_MD.parse(str(text))).children, max(0, shift_headings))


def markdown_html(text: str, *, shift_headings: int = 0) -> str:
    """`safe_markdown` as HTML, for the HTML report."""
    return _MD.render(safe_markdown(text, shift_headings=shift_headings))


# --- highlighted spans --------------------------------------------------------------------


def _unmarked(text: str) -> str:
    return text.replace(MARK_OPEN, "").replace(MARK_CLOSE, "")


def _with_marks(text: str, spans: list[tuple[int, int]]) -> str:
    """`text` with MARK_OPEN/MARK_CLOSE around each span (its own copies of them dropped)."""
    opens = {start for start, end in spans if 0 <= start < end <= len(text)}
    closes = {end for start, end in spans if 0 <= start < end <= len(text)}
    out: list[str] = []
    for index, char in enumerate(text):
        if index in closes:
            out.append(MARK_CLOSE)
        if index in opens:
            out.append(MARK_OPEN)
        if char not in (MARK_OPEN, MARK_CLOSE):
            out.append(char)
    if len(text) in closes:
        out.append(MARK_CLOSE)
    return "".join(out)


def _finish(rendered: str, before: str, after: str) -> str:
    return _unmarked(_MARKED.sub(lambda m: f"{before}{m.group(1)}{after}", rendered))


def marked_markdown(text: str, spans: list[tuple[int, int]], *, before: str, after: str,
                    shift_headings: int = 0) -> str:
    """`safe_markdown` with each span of `text` between `before` and `after` (our own
    markup, e.g. Streamlit's ":orange-background[" and "]"); a span inside code stays plain."""
    return _finish(safe_markdown(_with_marks(str(text), spans), shift_headings=shift_headings),
                   before, after)


def marked_html(text: str, spans: list[tuple[int, int]], *, shift_headings: int = 0) -> str:
    """`markdown_html` with each span of `text` in a <mark>."""
    rendered = _MD.render(safe_markdown(_with_marks(str(text), spans),
                                        shift_headings=shift_headings))
    return _finish(rendered, '<mark class="unchecked">', "</mark>")
