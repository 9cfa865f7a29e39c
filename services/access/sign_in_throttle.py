"""Recent failed sign-ins per client (browser address), per username and per both, counted in
the metadata store (services/access/rate_limits.py), so every server sees the same counts.

Why all three: an account's own lock-out stops guessing at one account, but alone it lets
anyone lock the only admin out, and says nothing about unknown usernames. Here:

- a client with too many recent failures is refused before any password is checked;
- every username, known or not, counts its recent failures here (not in the users table),
  so unknown usernames are slowed and answered exactly like real ones;
- a locked account still lets in the right password from a client with no recent failures
  there, so a stranger's guesses cannot keep its owner out.
"""

from services.access import rate_limits
from services.settings import get_settings

UNKNOWN_CLIENT = rate_limits.UNKNOWN_ADDRESS


def client_key(client: str | None) -> str:
    return (client or UNKNOWN_CLIENT).strip()[:100] or UNKNOWN_CLIENT


def _client(client: str) -> str:
    return f"sign-in client {client}"


def _account(username: str) -> str:
    return f"sign-in account {username}"


def _pair(client: str, username: str) -> str:
    return f"sign-in pair {client}|{username}"


def client_wait_s(client: str) -> float:
    """Seconds this client must wait before any password is checked (0: it may try)."""
    count = rate_limits.peek(_client(client))[_client(client)]
    return count.wait_s(get_settings().login_client_max_attempts)


def account_wait_s(client: str, username: str) -> float:
    """Seconds this client must wait before trying this username again: only while the
    account has too many recent failures and this client is among those who failed."""
    account, pair = _account(username), _pair(client, username)
    counts = rate_limits.peek(account, pair)
    if not counts[pair].hits:
        return 0.0
    return counts[account].wait_s(get_settings().login_max_attempts)


def record_failure(client: str, username: str) -> None:
    settings = get_settings()
    rate_limits.hit({_client(client): settings.login_window_s,
                     _account(username): settings.login_lockout_s,
                     _pair(client, username): settings.login_window_s})


def record_success(client: str, username: str) -> None:
    rate_limits.forget(_pair(client, username))
