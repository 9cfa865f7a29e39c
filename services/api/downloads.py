"""The one Content-Disposition header for every file the API sends (RFC 6266).

Header values travel as Latin-1, so a name like “Umsatz Übersicht 研究 ☃.html” cannot go in
raw. Every download gets an ASCII `filename="…"` for old clients and the exact name as
`filename*=UTF-8''<percent-encoded>`, which browsers and HTTP libraries prefer.
"""

import re
import unicodedata
from urllib.parse import quote

_UNSAFE_ASCII = re.compile(r'[^\x20-\x7e]|["\\;]')
_SUFFIX = re.compile(r"(\.[A-Za-z0-9]{1,8})+$")  # “.md.zip”, kept whole


def _ascii_fallback(filename: str) -> str:
    """“Umsatz Übersicht 研究.html” → “Umsatz Ubersicht.html”; never empty."""
    plain = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii")
    plain = _UNSAFE_ASCII.sub("_", plain)
    plain = re.sub(r"[-_ ]*_[-_ ]*", "_", plain).strip(" ")
    suffix = _SUFFIX.search(plain)
    ext = suffix.group(0) if suffix else ""
    stem = plain[:len(plain) - len(ext)].strip("-_ .")
    return f"{stem or 'download'}{ext}"


def content_disposition(filename: str) -> str:
    """`attachment; filename="<ascii>"; filename*=UTF-8''<exact name, percent-encoded>`."""
    encoded = quote(filename, safe="")
    return f"attachment; filename=\"{_ascii_fallback(filename)}\"; filename*=UTF-8''{encoded}"
