"""How the bytes of a text file become letters: the one home of encoding detection.

UTF-8 and UTF-16 are told by their bytes. Text in a Western single-byte encoding (accented
letters between plain ones: "München", "Perú") is read as Windows-1252, or Latin-1 when it
has none of the bytes only Windows-1252 uses. Text whose words are made of bytes above 127
(Cyrillic, Greek, Chinese, Japanese, Korean ... in a legacy encoding) is handed to
charset-normalizer; when it cannot tell, the person is asked to choose rather than shown
garbled letters.
"""

import codecs
import re

import charset_normalizer

from services.errors import InvalidInput

# How many bytes charset-normalizer looks at: enough words to be sure, fast (~50 ms).
DETECT_BYTES = 64 * 1024
# Western text has single accented letters between plain ones (runs of 1.0-1.2 bytes above
# 127 on average); Cyrillic and Greek words are whole runs of them (~7), East-Asian double-byte
# text 2.4-4. charset-normalizer alone misreads long Spanish files as Japanese.
WESTERN_MAX_RUN = 1.5
WESTERN = {"cp1252", "latin_1", "iso8859_15", "cp1250", "iso8859_2", "cp1257", "iso8859_4",
           "iso8859_10", "iso8859_13", "iso8859_14", "iso8859_16", "iso8859_3", "iso8859_9",
           "cp1254"}
# Old DOS and Mac code pages: their guesses on a short sample are noise for a data file.
RARE = ["mac_latin2", "mac_roman", "mac_iceland", "mac_greek", "mac_cyrillic", "mac_turkish",
        "hp_roman8", "cp437", "cp737", "cp775", "cp850", "cp852", "cp855", "cp857", "cp858",
        "cp860", "cp861", "cp862", "cp863", "cp864", "cp865", "cp866", "cp869", "cp874",
        "cp1006", "cp1125", "kz1048", "ptcp154", "tis_620"]

MSG_BINARY = ("This does not look like a text file (it contains binary data); "
              "check that you picked the right file.")
MSG_UNKNOWN = ("We could not tell how the letters in this file are stored; choose its text "
               "encoding under “Read options” (most files are UTF-8 or Windows-1252), or save "
               "it again as UTF-8.")


def detect_encoding(head: bytes) -> str:
    """The Python codec name to read a file whose first bytes are `head`."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith(codecs.BOM_UTF16_LE):
        return "utf-16"
    if head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16-be"
    utf16 = _utf16_without_bom(head)
    if utf16:
        return utf16
    if b"\x00" in head:
        raise InvalidInput(MSG_BINARY)
    if _is_utf8(head):
        return "utf-8"
    return _single_byte_or_legacy(head)


def check_encoding(name: str) -> str:
    """A codec name a person or a script chose, checked; one sentence when it is unknown."""
    try:
        codecs.lookup(name)
    except LookupError:
        raise InvalidInput(f"“{name}” is not a text encoding Research Desk knows; choose one "
                           "such as utf-8, cp1252, cp1251 or shift_jis.") from None
    return name


def _utf16_without_bom(head: bytes) -> str | None:
    if head.count(b"\x00") <= len(head) // 4:
        return None
    if head[1::2].count(b"\x00") > len(head) * 0.4:
        return "utf-16-le"
    if head[0::2].count(b"\x00") > len(head) * 0.4:
        return "utf-16-be"
    return None


def _is_utf8(head: bytes) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        return error.start >= len(head) - 4  # only a character cut by the sample boundary
    return True


def _mean_high_run(head: bytes) -> float:
    """Average length of the runs of bytes above 127 (0 when there are none)."""
    runs = re.findall(rb"[\x80-\xff]+", head[:DETECT_BYTES])
    return sum(map(len, runs)) / len(runs) if runs else 0.0


def _single_byte_or_legacy(head: bytes) -> str:
    """charset-normalizer's reading, where it is a non-Western one; Western text is read as
    Windows-1252 or Latin-1 (on a short sample it cannot tell those from Baltic or Central
    European pages, and the read sentence names the one used)."""
    if _mean_high_run(head) > WESTERN_MAX_RUN:
        best = charset_normalizer.from_bytes(head[:DETECT_BYTES], cp_exclusion=RARE).best()
        if best is None:
            raise InvalidInput(MSG_UNKNOWN)
        if best.encoding not in WESTERN:
            return str(best.encoding)
    return "cp1252" if any(0x80 <= b <= 0x9F for b in head) else "latin-1"
