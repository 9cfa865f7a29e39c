"""What makes a password too easy to guess: short, common, a word plus a year, a keyboard row.

A small, readable rule set (no large word list): the length floor does most of the work, and
the checks below refuse the guessable long ones (`Password1234`, `qwertyuiop12`, `Winter2024!!`).
"""

import re

MIN_LENGTH = 12
PASSWORD_RULE = (
    f"at least {MIN_LENGTH} characters, with at least one letter and one digit, and not a "
    "common word, name or keyboard pattern"
)

# Lower-case cores that attackers try first (the digits and symbols around them are ignored).
COMMON_WORDS = frozenset("""
password passw0rd passwort motdepasse contrasena wachtwoord welcome welcome1 letmein
admin administrator root login user guest test tester default changeme secret iloveyou
monkey dragon master shadow sunshine princess football baseball soccer hockey superman
batman trustno1 whatever freedom starwars pokemon computer internet qwerty qwertz azerty
abc abcdef abcdefg abcdefgh abcdefghijkl research researchdesk streamlit company
spring summer autumn fall winter january february march april may june july august
september october november december monday tuesday wednesday thursday friday saturday
sunday hello hellothere letmein1 access secure security
""".split())

KEYBOARD_ROWS = (
    "1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm", "qwertzuiop", "yxcvbnm",
    "azertyuiop", "qsdfghjklm", "wxcvbn", "abcdefghijklmnopqrstuvwxyz", "1qaz2wsx3edc",
    "0987654321", "zaq12wsx",
)
_AROUND = re.compile(r"^[\W\d_]*(.*?)[\W\d_]*$")


def _is_walk(text: str) -> bool:
    """Part of a keyboard row or the alphabet, forwards or backwards (`qwerty`, `4321`)."""
    if len(text) < 4:
        return False
    return any(text in row or text in row[::-1] for row in KEYBOARD_ROWS)


def _without_walks(text: str) -> str:
    """The text with every keyboard or alphabet run of four or more characters taken out."""
    rows = [*KEYBOARD_ROWS, *(row[::-1] for row in KEYBOARD_ROWS)]
    for size in range(len(text), 3, -1):
        for start in range(len(text) - size + 1):
            piece = text[start:start + size]
            if piece.strip() and any(piece in row for row in rows):
                return _without_walks(text[:start] + text[start + size:])
    return text


def _core(lowered: str) -> str:
    """The word inside leading/trailing digits and symbols: `!!winter2024` → `winter`."""
    match = _AROUND.match(lowered)
    return match.group(1) if match else lowered


def weakness(password: str, *, username: str = "") -> str | None:
    """Why this password is too guessable, in one sentence for the person; None if fine."""
    lowered = password.lower()
    if len(password) < MIN_LENGTH or not re.search(r"[A-Za-z]", password) \
            or not re.search(r"\d", password):
        return f"Choose a stronger password: {PASSWORD_RULE}."
    core = _core(lowered)
    leet = core.translate(str.maketrans("0134@$5!7", "oieaassit"))
    if core in COMMON_WORDS or leet in COMMON_WORDS or not core:
        return ("That password is one of the first ones attackers try (a common word with "
                "numbers around it). Choose something less predictable, such as three "
                "unrelated words with a number.")
    if _is_walk(core) or len(_without_walks(lowered)) < 6 or len(set(lowered)) < 5:
        return ("That password follows a keyboard pattern or repeats characters, so it is "
                "easy to guess. Choose something less predictable.")
    if username and len(username) >= 3 and username.lower() in lowered:
        return "A password cannot contain the username. Choose something else."
    return None
