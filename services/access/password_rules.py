"""What makes a password too easy to guess, judged by zxcvbn (Dropbox's strength estimator).

zxcvbn estimates how many guesses an attacker needs, knowing common passwords, dictionary
words, names, dates, keyboard patterns, repeats, and the person's own username and name. We
ask for score 3 (at least 10⁸ guesses): against our bcrypt hashes (about a quarter of a
second a guess) that is years of one computer's time per account, and sign-in guessing is
slowed to a few tries a minute. Score 4 (10¹⁰) would refuse many memorable passphrases of two
words and a number, which people then write down.

On top of the score, three things zxcvbn alone lets through: the username inside (also spaced
out or with dots and dashes), a password judged as if its spaces and dashes were not there
(`b o b b y 2 0 2 4` is `bobby2024`), and one word with only digits and symbols around it
(`Winter2024!!`, the first thing attackers try). zxcvbn knows English words; the calendar
words of the team's other languages and our own product words are added below.
"""

import re
import threading
from typing import TYPE_CHECKING

from zxcvbn import zxcvbn

if TYPE_CHECKING:  # the shapes of zxcvbn's answers, known to the type checker only
    from zxcvbn import _Result
    from zxcvbn.matching import _Match

MIN_LENGTH = 12
MIN_SCORE = 3
MAX_CHARS = 72  # bcrypt reads 72 bytes at most; zxcvbn refuses longer input
PASSWORD_RULE = (
    f"at least {MIN_LENGTH} characters, with at least one letter and one digit, and hard to "
    "guess: not a common word, name, date or keyboard pattern, nor your username"
)

EXTRA_WORDS = tuple("""
research desk researchdesk streamlit motdepasse contrasena passwort wachtwoord bienvenue
janvier fevrier mars avril mai juin juillet aout septembre octobre novembre decembre
printemps ete automne hiver lundi mardi mercredi jeudi vendredi samedi dimanche
januar februar maerz juli oktober dezember fruehling sommer herbst
enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre
primavera verano otono invierno lunes martes miercoles jueves viernes sabado domingo
""".split())

_SEPARATORS = re.compile(r"[\s._\-]+")
_ACCENTS = str.maketrans("éèêëàâäîïôöûüùçñ", "eeeeaaaiioouuucn")
# zxcvbn keeps the person's words in a module-level dictionary, so calls take turns.
_zxcvbn_lock = threading.Lock()

# zxcvbn's warnings, said plainly (it completes "That password is too easy to guess because …").
_WHY = {
    "Straight rows of keys are easy to guess.": "it follows a row of keys on the keyboard",
    "Short keyboard patterns are easy to guess.": "it follows a pattern on the keyboard",
    'Repeats like "aaa" are easy to guess.': "it repeats the same character",
    'Repeats like "abcabcabc" are only slightly harder to guess than "abc".':
        "it repeats the same part",
    'Sequences like "abc" or "6543" are easy to guess.': "it runs in order, like abc or 6543",
    "Recent years are easy to guess.": "it leans on a recent year",
    "Dates are often easy to guess.": "it leans on a date",
    "This is a top-10 common password.": "it is one of the most common passwords",
    "This is a top-100 common password.": "it is one of the most common passwords",
    "This is a very common password.": "it is a very common password",
    "This is similar to a commonly used password.": "it is very close to a common password",
    "A word by itself is easy to guess.": "it is a single common word",
    "Names and surnames by themselves are easy to guess.": "it is mostly a name",
    "Common names and surnames are easy to guess.": "it is mostly a common name",
}


def _squeezed(text: str) -> str:
    return _SEPARATORS.sub("", text.lower().translate(_ACCENTS))


def _personal_words(username: str, name: str) -> list[str]:
    words = [username, *re.split(r"[\s._\-]+", name)]
    return [_squeezed(word) for word in words if len(word) >= 3]


def _estimate(password: str, user_inputs: list[str]) -> "_Result":
    """zxcvbn's judgement of the password and of it without spaces and dashes: the weaker."""
    with _zxcvbn_lock:
        results = [zxcvbn(candidate, user_inputs=user_inputs)
                   for candidate in dict.fromkeys((password, _squeezed(password)))]
    return min(results, key=lambda result: result["guesses"])


def _only_known_words_with_digits(sequence: "list[_Match]", personal: list[str],
                                  ) -> str | None:
    """Why, when the letters are one dictionary word or only the person's own words, with
    nothing but digits and symbols around them (zxcvbn scores any three parts 10⁸ or more)."""
    words = [match for match in sequence if match["pattern"] == "dictionary"]
    rest = "".join(match["token"] for match in sequence if match["pattern"] != "dictionary")
    if not words or not rest or re.search(r"[^\W\d_]", rest):
        return None
    if all(match.get("matched_word") in personal for match in words):
        return "it is your name with numbers or symbols around it"
    if len(words) == 1:
        return "it is one word with numbers or symbols around it, the first thing attackers try"
    return None


def _why(result: "_Result", personal: list[str]) -> str:
    dictionary = [match for match in result["sequence"] if match["pattern"] == "dictionary"]
    if any(match.get("matched_word") in personal for match in dictionary):
        return "it contains your name or username"
    warning = _WHY.get(result["feedback"]["warning"])
    if warning:
        return warning
    if any(match.get("dictionary_name") == "user_inputs" for match in dictionary):
        return "it is built on a common word such as a month, a season or a day"
    return "it is made of common words, names or patterns"


def weakness(password: str, *, username: str = "", name: str = "") -> str | None:
    """Why this password is too guessable, in one sentence for the person; None if fine."""
    if len(password) < MIN_LENGTH or not re.search(r"[A-Za-z]", password) \
            or not re.search(r"\d", password):
        return f"Choose a stronger password: {PASSWORD_RULE}."
    if len(password) > MAX_CHARS:
        return f"Passwords can be at most {MAX_CHARS} characters long; choose a shorter one."
    user = _squeezed(username)
    if len(user) >= 3 and user in _squeezed(password):
        return "A password cannot contain the username. Choose something else."
    personal = _personal_words(username, name)
    result = _estimate(password, [*personal, *EXTRA_WORDS])
    why = _only_known_words_with_digits(result["sequence"], personal)
    if why is None and result["score"] < MIN_SCORE:
        why = _why(result, personal)
    if why is None:
        return None
    return f"That password is too easy to guess because {why}; add one or two uncommon words."
