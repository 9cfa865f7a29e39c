"""Passwords of data sources sealed at rest (Fernet: AES with an HMAC), so the metadata
store and its backups never hold them in clear. The key is a setting (services.access.auth_keys)."""

from cryptography.fernet import Fernet, InvalidToken

from services.access.auth_keys import sources_key
from services.errors import SourceUnavailable

MSG_KEY_CHANGED = ("The stored password of this data source cannot be read: the key of data "
                   "sources (RESEARCH_DESK_SOURCES_KEY) has changed. An admin must enter the "
                   "password again.")


def seal(password: str) -> str:
    if not password:
        return ""
    return Fernet(sources_key().encode()).encrypt(password.encode()).decode()


def unseal(sealed: str) -> str:
    if not sealed:
        return ""
    try:
        return Fernet(sources_key().encode()).decrypt(sealed.encode()).decode()
    except (InvalidToken, ValueError) as error:
        raise SourceUnavailable(MSG_KEY_CHANGED) from error
