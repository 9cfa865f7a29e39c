"""Recent failed sign-ins per client (browser address), per username and per both, counted
where services/access/rate_limits.py counts (Redis or the metadata store), so every server
sees the same counts.

Why all three: an account's own lock-out stops guessing at one account, but alone it lets
anyone lock the only admin out, and says nothing about unknown usernames. Here:

- a client with too many recent failures is refused before any password is checked;
- every username, known or not, counts its recent failures here (not in the users table),
  so unknown usernames are slowed and answered exactly like real ones;
- a locked account still lets in the right password from a client with no recent failures
  there, so a stranger's guesses cannot keep its owner out.

An attempt is counted as a failure *before* its password is checked (`begin`), each brake in
one atomic conditional step, and given back when the password was right (`end`): so servers
checking passwords at the same moment never check more than the limits allow. Counting
after the check would let every server check one more while the others were still busy.
"""

from dataclasses import dataclass

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


@dataclass(frozen=True)
class Attempt:
    """A sign-in attempt let through the brakes (its failure already counted), or refused:
    `client_wait_s` > 0 refuses it before anything else, `account_wait_s` > 0 because the
    account has too many recent failures and this client is among those who failed."""

    client: str
    username: str
    client_wait_s: float = 0.0
    account_wait_s: float = 0.0

    @property
    def may_check(self) -> bool:
        return self.client_wait_s <= 0 and self.account_wait_s <= 0


def begin(client: str, username: str) -> Attempt:
    """May this attempt's password be checked? If so, it is counted as a failure already."""
    settings = get_settings()
    by_client = rate_limits.take(_client(client), settings.login_window_s,
                                 settings.login_client_max_attempts)
    if not by_client.taken:
        return Attempt(client, username,
                       client_wait_s=_wait(by_client.count, settings.login_client_max_attempts))
    # Is this client new to this account? Its own hit answers: 1 means nobody from here failed.
    pair = rate_limits.hit({_pair(client, username): settings.login_window_s})
    stranger = pair[_pair(client, username)].hits <= 1
    by_account = rate_limits.take(_account(username), settings.login_lockout_s,
                                  settings.login_max_attempts, anyway=stranger)
    if by_account.taken:
        return Attempt(client, username)
    rate_limits.give_back(_client(client))  # refused by the account: not a checked failure
    return Attempt(client, username,
                   account_wait_s=_wait(by_account.count, settings.login_max_attempts))


def _wait(count: rate_limits.Count, limit: int) -> float:
    """At least a moment: the count may have ended between the refusal and this reading."""
    return max(count.wait_s(limit), 1.0)


def end(attempt: Attempt, *, failed: bool) -> None:
    """A checked attempt's outcome: a failure stays counted; any other outcome (signed in,
    or the account is disabled) is given back, and this client counts as new here again."""
    if failed or not attempt.may_check:
        return
    rate_limits.give_back(_client(attempt.client))
    rate_limits.give_back(_account(attempt.username))
    rate_limits.forget(_pair(attempt.client, attempt.username))
