"""Numbers and dates written the way people in different countries write them (test helper)."""

import datetime as dt

STYLES = ("germany", "france", "france_narrow", "spain", "switzerland", "india")
DECIMAL = {"germany": ",", "france": ",", "france_narrow": ",", "spain": ",",
           "switzerland": ".", "india": "."}
THOUSANDS = {"germany": ".", "france": " ", "france_narrow": "\u202f", "spain": ".",
             "switzerland": "'", "india": ","}


def _groups(digits: str, style: str) -> list[str]:
    if style == "india" and len(digits) > 3:
        head, tail = digits[:-3], digits[-3:]
        pairs = []
        while len(head) > 2:
            pairs.insert(0, head[-2:])
            head = head[:-2]
        return [head, *pairs, tail]
    groups = []
    while len(digits) > 3:
        groups.insert(0, digits[-3:])
        digits = digits[:-3]
    return [digits, *groups]


def write_number(whole: int, fraction: str, negative: bool, style: str) -> str:
    """1234567, "89", False, "germany" → "1.234.567,89"."""
    digits = str(whole)
    if style == "spain" and len(digits) == 4:
        integer = digits  # Spanish style writes 4-digit numbers without a separator
    else:
        integer = THOUSANDS[style].join(_groups(digits, style))
    text = integer + (DECIMAL[style] + fraction if fraction else "")
    return ("-" if negative else "") + text


def expected(whole: int, fraction: str, negative: bool) -> float:
    return float(("-" if negative else "") + f"{whole}.{fraction or '0'}")


def write_date(day: dt.date, order: str, sep: str = "/") -> str:
    first, second = (day.day, day.month) if order == "day_first" else (day.month, day.day)
    return f"{first:02d}{sep}{second:02d}{sep}{day.year}"
