"""Passwords of data sources sealed at rest (Fernet: AES with an HMAC), so the metadata
store and its backups never hold them in clear. The key is a setting (services.access.auth_keys)."""

from cryptography.fernet import Fernet, InvalidToken

from services.access.auth_keys import sources_key
from services.errors import SourceUnavailable, StorageUnavailable

MSG_KEY_CHANGED = ("The stored password of this data source cannot be read: the key of data "
                   "sources (RESEARCH_DESK_SOURCES_KEY) has changed. An admin must enter the "
                   "password again.")


MSG_BAD_KEY = ("RESEARCH_DESK_SOURCES_KEY is not a valid key: make one with "
               "Fernet.generate_key() (see the README's Configuration) and restart.")


def _fernet() -> Fernet:
    try:
        return Fernet(sources_key().encode())
    except ValueError as error:  # not 32 url-safe base64 bytes
        raise StorageUnavailable(MSG_BAD_KEY) from error


def seal(password: str) -> str:
    if not password:
        return ""
    return _fernet().encrypt(password.encode()).decode()


def unseal(sealed: str) -> str:
    if not sealed:
        return ""
    fernet = _fernet()
    try:
        return fernet.decrypt(sealed.encode()).decode()
    except (InvalidToken, ValueError) as error:
        raise SourceUnavailable(MSG_KEY_CHANGED) from error
