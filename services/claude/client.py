"""The one door to Claude: client, retries, streaming, structured output, usage accounting.

Nothing else in the product imports `anthropic`. The SDK's own retries are off
(`max_retries=0`) so this module decides: exponential backoff with jitter for 429, 529,
5xx, timeouts and dropped connections, honouring `retry-after`, then a `ClaudeUnavailable`
whose message a non-programmer can act on. Every call — succeeded, failed or cancelled —
produces one `CallUsage`, handed to the caller's `on_usage` and to the module-wide sink
(the lead wires that to the `runs` table). The API key never appears in a message,
exception, log record or repr: it lives only inside the SDK client.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Literal, TypeVar

import anthropic
import httpx2
from pydantic import BaseModel, Field, ValidationError

from services.claude import caching
from services.errors import ClaudeUnavailable
from services.settings import Settings, get_settings

log = logging.getLogger(__name__)

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)
UsageSink = Callable[["CallUsage"], None]
BudgetCheck = Callable[[str], None]
BudgetHold = Callable[["CallUsage"], int | None]  # the call's maximum → a hold id (or None)
BudgetRelease = Callable[[int], None]
Message = dict[str, Any]
System = str | list[dict[str, Any]]  # text, or text blocks (one may end a cached prefix)

# Backoff knobs are module constants (not settings) so tests can shrink them.
BASE_BACKOFF_S = 0.5
MAX_RETRY_WAIT_S = 20.0
MODELS_TIMEOUT_S = 5.0

NO_KEY = ("Claude is not set up yet: an admin can add an Anthropic API key (ANTHROPIC_API_KEY) "
          "— everything else in Research Desk works without it.")
BUSY = ("Claude is busy right now (it asked us to slow down). Your question is kept — "
        "try again in a minute.")
OVERLOADED = ("Claude is overloaded right now. Your question is kept — try again in a few "
              "minutes.")
SERVER_ERROR = ("Claude's service had an error and did not recover after several tries. "
                "Your question is kept — try again in a few minutes.")
TIMEOUT = ("Claude took too long to reply. Your question is kept — try again, or ask a "
           "simpler question.")
CONNECTION = ("Research Desk could not reach Claude (the connection failed). Your question is "
              "kept — check the network connection and try again.")
DROPPED = ("The connection to Claude dropped part-way through the answer, so it may be "
           "incomplete. Your question is kept — try asking again.")
KEY_REFUSED = "The Claude API key was refused. Ask an admin to check it on the Admin page."
FORBIDDEN = ("The Claude API key is not allowed to do this. Ask an admin to check the key's "
             "permissions on the Admin page.")
BAD_REQUEST = ("Claude could not accept this request (it may be too long). Try a shorter "
               "question or fewer datasets.")
BAD_REPLY = ("Claude's reply did not have the expected shape, so it was not used. Try asking "
             "again, perhaps more simply.")
CANCELLED = "The request to Claude was cancelled."
CUT_SHORT = ("Claude's answer stopped before it was finished, so it is incomplete. Your "
             "question is kept — try asking again.")
DEADLINE = ("Claude did not finish within the time allowed, so Research Desk stopped waiting. "
            "Your question is kept — try again, or ask a simpler question.")


class CallUsage(BaseModel):
    """One Claude call, as recorded in the `runs` table. Costs are estimates."""

    user: str
    feature: str
    model: str
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cache_write_1h_tokens: int = 0  # the part of cache_write_tokens kept for an hour
    latency_ms: float = 0.0
    status: Literal["succeeded", "failed", "cancelled"] = "succeeded"
    error: str | None = None
    cost_estimate: float | None = None
    attempts: int = 0
    started_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    hold_id: int | None = None  # the budget hold this call's usage releases when recorded


class ClaudeCancelled(ClaudeUnavailable):
    """The caller cancelled (cancel event set) before Claude finished."""


class ClaudeIncomplete(ClaudeUnavailable):
    """A streamed answer ended before Claude said it was finished (no `message_stop`: the
    connection dropped or the deadline passed). The text received so far is not the answer."""


_usage_sink: UsageSink | None = None
_deferred = threading.local()  # calls on a thread inside `sink_deferred()` skip the module sink
_budget_check: BudgetCheck | None = None
_budget_hold: BudgetHold | None = None
_budget_release: BudgetRelease | None = None
_sink_releases_holds = False
_clients: dict[tuple[str, str | None, float], anthropic.Anthropic] = {}
_clients_lock = threading.Lock()


def set_usage_sink(sink: UsageSink | None, *, releases_holds: bool = False) -> None:
    """Module-wide recorder of every call (in addition to any per-call `on_usage`); with
    `releases_holds` it also releases the call's budget hold (`CallUsage.hold_id`)."""
    global _usage_sink, _sink_releases_holds
    _usage_sink = sink
    _sink_releases_holds = releases_holds


def usage_sink() -> UsageSink | None:
    return _usage_sink


@contextmanager
def sink_deferred(*, budget_checked: bool = False) -> Iterator[None]:
    """Calls made on this thread inside the block reach only their own `on_usage`; the caller
    records them itself (the batch runner writes each result with its usage). With
    `budget_checked` the caller has seen to the budget itself: a job holds its whole maximum
    when it is created, so its calls take no hold of their own."""
    _deferred.active = True
    _deferred.budget_checked = budget_checked
    try:
        yield
    finally:
        _deferred.active = False
        _deferred.budget_checked = False


def set_budget_check(check: BudgetCheck | None) -> None:
    """Called with the username before every call; raise `BudgetExceeded` to refuse it."""
    global _budget_check
    _budget_check = check


def set_budget_hold(hold: BudgetHold | None, release: BudgetRelease | None = None) -> None:
    """Called with the call's maximum (its tokens; no request sent yet) before every call:
    holds it against the person's budget, or raises `BudgetExceeded` to refuse the call.
    The hold is released when the call's usage is recorded. Set, it replaces the plain
    budget check (a hold also refuses a budget already used up)."""
    global _budget_hold, _budget_release
    _budget_hold = hold
    _budget_release = release


def reset_clients() -> None:
    """Forget cached SDK clients (after the key, base URL or timeout changes)."""
    with _clients_lock:
        _clients.clear()


def is_configured() -> bool:
    return get_settings().has_claude_key


def _price(model: str, settings: Settings | None) -> tuple[float, float, float, float] | None:
    """The model's row of the price table: exact name first, else the longest prefix."""
    prices = (settings or get_settings()).prices
    return prices.get(model) or next(
        (p for name, p in sorted(prices.items(), key=lambda kv: -len(kv[0]))
         if model.startswith(name)), None)


def estimate_cost(model: str, usage: CallUsage, settings: Settings | None = None) -> float | None:
    """US$ estimate from the price table (per million tokens); None for an unknown model.
    Cache reads and 5-minute writes have their own prices; 1-hour writes cost twice the
    input price, as Anthropic bills them. The one home of what a call costs."""
    price = _price(model, settings)
    if price is None:
        return None
    hour_writes = min(usage.cache_write_1h_tokens, usage.cache_write_tokens)
    tokens = (usage.input_tokens, usage.output_tokens, usage.cache_read_tokens,
              usage.cache_write_tokens - hour_writes)
    priced = sum(t * p for t, p in zip(tokens, price, strict=True))
    return (priced + hour_writes * 2 * price[0]) / 1_000_000


def cache_saving(usage: CallUsage, settings: Settings | None = None) -> float:
    """US$ prompt caching saved on one call: its cached tokens at the plain input price
    minus what `estimate_cost` charged for them (negative when a write was never read back).
    Scaled like the call's own estimate, so a Message Batches call saves at half price too."""
    full = estimate_cost(usage.model, usage, settings)
    if not full or usage.cost_estimate is None:
        return 0.0
    plain = estimate_cost(usage.model, usage.model_copy(update={
        "input_tokens": usage.input_tokens + usage.cache_read_tokens + usage.cache_write_tokens,
        "cache_read_tokens": 0, "cache_write_tokens": 0, "cache_write_1h_tokens": 0}),
        settings) or 0.0
    return (plain - full) * usage.cost_estimate / full


def _hour_writes(usage: Any) -> int:
    """Cache-write tokens kept for an hour (the API splits writes by time to live)."""
    split = getattr(usage, "cache_creation", None)
    return int(getattr(split, "ephemeral_1h_input_tokens", 0) or 0)


def list_models() -> list[str]:
    """Model ids offered to admins: from the API when reachable, else from settings."""
    settings = get_settings()
    if not settings.has_claude_key:
        return list(settings.available_models)
    try:
        client = _client(settings).with_options(timeout=MODELS_TIMEOUT_S)
        ids = [model.id for model in client.models.list(limit=100)]
    except (anthropic.AnthropicError, httpx2.HTTPError) as err:
        log.info("Model list unavailable (%s); using the configured list.", type(err).__name__)
        return list(settings.available_models)
    return ids or list(settings.available_models)


# --- public calls ----------------------------------------------------------------------

def complete_text(messages: list[Message], *, system: System, feature: str, user: str,
                  model: str | None = None, on_usage: UsageSink | None = None,
                  max_tokens: int | None = None, temperature: float | None = None) -> str:
    """A whole text reply, not streamed."""
    call = _Call(user=user, feature=feature, model=model, on_usage=on_usage)
    params = call.params(messages, system=system, max_tokens=max_tokens,
                         **_temperature(temperature))
    message = call.run(lambda: call.client.messages.create(**params))
    return "".join(block.text for block in message.content if block.type == "text")


def structured(messages: list[Message], *, system: str, tool_name: str,
               schema_model: type[M], feature: str, user: str, model: str | None = None,
               on_usage: UsageSink | None = None, tool_description: str = "",
               max_tokens: int | None = None, cache: bool = False) -> M:
    """Forces one tool call whose input follows `schema_model`; returns it validated.
    `cache` marks the tools + system and the conversation as cached prefixes."""
    call = _Call(user=user, feature=feature, model=model, on_usage=on_usage)
    tool = {"name": tool_name, "description": tool_description or schema_model.__doc__ or "",
            "input_schema": schema_model.model_json_schema()}
    params = call.params(messages, system=system, max_tokens=max_tokens, tools=[tool],
                         tool_choice={"type": "tool", "name": tool_name})
    if cache:
        params = caching.mark_conversation(params)
    message = call.run(lambda: call.client.messages.create(**params), finish=False)
    blocks = [b for b in message.content if b.type == "tool_use" and b.name == tool_name]
    if not blocks:
        call.finish("failed", BAD_REPLY)
        raise ClaudeUnavailable(BAD_REPLY)
    try:
        result = schema_model.model_validate(blocks[0].input)
    except ValidationError as err:
        call.finish("failed", f"reply failed validation ({err.error_count()} problems)")
        raise ClaudeUnavailable(BAD_REPLY) from None
    call.finish("succeeded")
    return result


def stream_text(messages: list[Message], *, system: System, feature: str, user: str,
                model: str | None = None, on_usage: UsageSink | None = None,
                cancel_event: threading.Event | None = None,
                max_tokens: int | None = None, temperature: float | None = None,
                ) -> Iterator[str]:
    """Text chunks as Claude writes them. Key and budget are checked now, the request is
    sent on first iteration; stopping early (or `cancel_event`) records "cancelled"."""
    call = _Call(user=user, feature=feature, model=model, on_usage=on_usage)
    params = call.params(messages, system=system, max_tokens=max_tokens,
                         **_temperature(temperature))
    return _stream(call, params, cancel_event)


def tool_input(messages: list[Message], *, system: System, tool: dict[str, Any], feature: str,
               user: str, model: str | None = None, on_usage: UsageSink | None = None,
               max_tokens: int | None = None, temperature: float | None = None,
               ) -> dict[str, Any]:
    """Forces one call of `tool` (name, description, input_schema) and returns its input as
    Claude gave it; the caller checks it against its own shape (prompt templates)."""
    call = _Call(user=user, feature=feature, model=model, on_usage=on_usage)
    params = call.params(messages, system=system, max_tokens=max_tokens, tools=[tool],
                         tool_choice={"type": "tool", "name": tool["name"]},
                         **_temperature(temperature))
    message = call.run(lambda: call.client.messages.create(**params))
    blocks = [b for b in message.content if b.type == "tool_use" and b.name == tool["name"]]
    if not blocks or not isinstance(blocks[0].input, dict):
        raise ClaudeUnavailable(BAD_REPLY)
    return dict(blocks[0].input)


def count_tokens(messages: list[Message], *, system: str, model: str | None = None,
                 tools: list[dict[str, Any]] | None = None) -> int | None:
    """Input tokens of a request, from the Messages API's count_tokens endpoint (free, not a
    call to the model); None when Claude is not set up or the count is unavailable."""
    settings = get_settings()
    if not settings.has_claude_key:
        return None
    params: dict[str, Any] = {"model": model or settings.model, "system": system,
                              "messages": messages}
    if tools:
        params["tools"] = tools
    try:
        client = _client(settings).with_options(timeout=MODELS_TIMEOUT_S)
        return int(client.messages.count_tokens(**params).input_tokens)
    except (anthropic.AnthropicError, httpx2.HTTPError) as err:
        log.info("Token count unavailable (%s).", type(err).__name__)
        return None


def _temperature(temperature: float | None) -> dict[str, Any]:
    """The SDK (2.x) has no `temperature` argument any more; the API still reads it from the
    body. 1.0 is the API's default, so it is left out."""
    if temperature is None or temperature == 1.0:
        return {}
    return {"extra_body": {"temperature": temperature}}


# --- internals -------------------------------------------------------------------------

def _client(settings: Settings) -> anthropic.Anthropic:
    if settings.anthropic_api_key is None:
        raise ClaudeUnavailable(NO_KEY)
    key = settings.anthropic_api_key.get_secret_value()
    cache_key = (key, settings.anthropic_base_url, settings.claude_timeout_s)
    with _clients_lock:
        client = _clients.get(cache_key)
        if client is None:
            client = anthropic.Anthropic(api_key=key, base_url=settings.anthropic_base_url,
                                         timeout=settings.claude_timeout_s, max_retries=0)
            _clients[cache_key] = client
    return client


class _Call:
    """State of one logical call across its attempts; records exactly one CallUsage."""

    def __init__(self, *, user: str, feature: str, model: str | None,
                 on_usage: UsageSink | None) -> None:
        self.settings = get_settings()
        if not self.settings.has_claude_key:
            raise ClaudeUnavailable(NO_KEY)
        self.checked = bool(getattr(_deferred, "budget_checked", False))
        if _budget_hold is None and _budget_check is not None and not self.checked:
            _budget_check(user)  # raises BudgetExceeded: no request is sent
        self.base_client = _client(self.settings)
        self.client = self.base_client
        self.usage = CallUsage(user=user, feature=feature, model=model or self.settings.model)
        self.on_usage = on_usage
        self.started = time.perf_counter()
        # One deadline for the whole call, all attempts and waits included.
        self.deadline = time.monotonic() + max(0.1, self.settings.claude_deadline_s)
        self.done = False

    def remaining_s(self) -> float:
        return self.deadline - time.monotonic()

    def bound_attempt(self) -> None:
        """The next attempt may take no longer than the deadline leaves."""
        timeout = min(self.settings.claude_timeout_s, self.remaining_s())
        self.client = self.base_client.with_options(timeout=max(0.1, timeout))

    def params(self, messages: list[Message], *, system: System, max_tokens: int | None,
               **extra: Any) -> dict[str, Any]:
        params = {"model": self.usage.model, "system": system, "messages": messages,
                  "max_tokens": max_tokens or self.settings.claude_max_tokens, **extra}
        if _budget_hold is not None and not self.checked:
            # raises BudgetExceeded: no request is sent
            self.usage.hold_id = _budget_hold(self.maximum(params))
        return params

    def maximum(self, params: dict[str, Any]) -> CallUsage:
        """The most this call can use: its input at about three characters a token (a
        generous count, with no request to count them) and the longest answer allowed."""
        sent = json.dumps([params["system"], params["messages"], params.get("tools")],
                          default=str, ensure_ascii=False)
        return CallUsage(user=self.usage.user, feature=self.usage.feature,
                         model=self.usage.model, input_tokens=len(sent) // 3 + 1,
                         output_tokens=int(params["max_tokens"]))

    def run(self, send: Callable[[], T], *, finish: bool = True,
            cancel_event: threading.Event | None = None) -> T:
        try:
            result = _with_retries(send, self, cancel_event)
        except ClaudeCancelled:
            self.finish("cancelled", CANCELLED)
            raise
        except ClaudeUnavailable as err:
            self.finish("failed", str(err))
            raise
        self.take_usage(getattr(result, "usage", None))
        if finish:
            self.finish("succeeded")
        return result

    def take_usage(self, usage: Any) -> None:
        if usage is None:
            return
        self.usage.input_tokens = int(getattr(usage, "input_tokens", 0) or 0)
        self.usage.output_tokens = int(getattr(usage, "output_tokens", 0) or 0)
        self.usage.cache_read_tokens = int(getattr(usage, "cache_read_input_tokens", 0) or 0)
        self.usage.cache_write_tokens = int(
            getattr(usage, "cache_creation_input_tokens", 0) or 0)
        self.usage.cache_write_1h_tokens = _hour_writes(usage)

    def finish(self, status: Literal["succeeded", "failed", "cancelled"],
               error: str | None = None) -> None:
        if self.done:
            return
        self.done = True
        self.usage.status = status
        self.usage.error = error
        self.usage.latency_ms = (time.perf_counter() - self.started) * 1000
        self.usage.cost_estimate = estimate_cost(self.usage.model, self.usage, self.settings)
        module_sink = None if getattr(_deferred, "active", False) else _usage_sink
        for sink in (self.on_usage, module_sink):
            if sink is None:
                continue
            try:
                sink(self.usage.model_copy())
            except Exception:  # a broken recorder must not break the answer
                log.exception("Recording Claude usage failed (feature %s).", self.usage.feature)
        self.release_hold(recorded=module_sink is not None and _sink_releases_holds)

    def release_hold(self, *, recorded: bool) -> None:
        if self.usage.hold_id is None or recorded or _budget_release is None:
            return
        try:
            _budget_release(self.usage.hold_id)
        except Exception:  # the hold is released when stale; the answer must not break
            log.exception("Releasing a Claude budget hold failed.")


def _with_retries(send: Callable[[], T], call: _Call,
                  cancel_event: threading.Event | None) -> T:
    max_retries = max(0, call.settings.claude_max_retries)
    while True:
        if cancel_event is not None and cancel_event.is_set():
            raise ClaudeCancelled(CANCELLED)
        if call.remaining_s() <= 0:
            raise ClaudeUnavailable(DEADLINE)
        call.bound_attempt()
        call.usage.attempts += 1
        try:
            return send()
        except anthropic.APIStatusError as err:
            message, retryable = _status_failure(err, call.usage.model)
            retry_after = _retry_after(err.response.headers)
            kind = f"HTTP {err.status_code}"
        except anthropic.APITimeoutError:
            message, retryable, retry_after, kind = TIMEOUT, True, None, "timeout"
        except (anthropic.APIConnectionError, httpx2.TransportError):
            message, retryable, retry_after, kind = CONNECTION, True, None, "connection"
        if not retryable or call.usage.attempts > max_retries:
            raise ClaudeUnavailable(message)
        wait = _backoff(call.usage.attempts, retry_after)
        if wait is None:  # asked to wait longer than we are willing to hold the user
            raise ClaudeUnavailable(message)
        if wait >= call.remaining_s():  # the retry could not finish in time anyway
            raise ClaudeUnavailable(DEADLINE if kind == "timeout" else message)
        log.info("Claude call (%s) failed with %s; retry %d in %.2f s.", call.usage.feature,
                 kind, call.usage.attempts, wait)
        if cancel_event is not None:
            if cancel_event.wait(wait):
                raise ClaudeCancelled(CANCELLED)
        else:
            time.sleep(wait)


def _status_failure(err: anthropic.APIStatusError, model: str) -> tuple[str, bool]:
    status = err.status_code
    if status == 429:
        return BUSY, True
    if status == 529:
        return OVERLOADED, True
    if status >= 500 or status in (408, 409):
        return SERVER_ERROR, True
    if status == 401:
        return KEY_REFUSED, False
    if status == 403:
        return FORBIDDEN, False
    if status == 404:
        return (f'The Claude model "{model}" was not found. Ask an admin to pick another '
                "model on the Admin page."), False
    return BAD_REQUEST, False


def _retry_after(headers: Any) -> float | None:
    """Seconds from `retry-after-ms` or `retry-after` (seconds or an HTTP date)."""
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _backoff(attempt: int, retry_after: float | None) -> float | None:
    if retry_after is not None:
        if retry_after > MAX_RETRY_WAIT_S:
            return None
        return retry_after * (1 + random.uniform(0, 0.1))  # noqa: S311 - jitter, not crypto
    ceiling = min(MAX_RETRY_WAIT_S, BASE_BACKOFF_S * 2 ** (attempt - 1))
    return random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not crypto


def _text_of(event: Any) -> str:
    if event.type == "content_block_delta" and event.delta.type == "text_delta":
        return str(event.delta.text)
    return ""


class _OpenStream:
    """An SDK stream read up to its first text chunk (so failures before it can retry)."""

    def __init__(self, call: _Call, params: dict[str, Any]) -> None:
        self.stream = call.client.messages.stream(**params).__enter__()
        self.events = iter(self.stream)
        self.first = ""
        self.input_usage: Any = None
        self.output_tokens = 0
        self.finished = False  # saw message_stop: Claude said the message is complete
        try:
            for event in self.events:
                self.note(event)
                self.first = _text_of(event)
                if self.first:
                    break
        except BaseException:
            self.stream.close()
            raise

    def note(self, event: Any) -> None:
        if event.type == "message_start":
            self.input_usage = event.message.usage
        elif event.type == "message_delta" and event.usage is not None:
            self.output_tokens = int(event.usage.output_tokens or 0)
        elif event.type == "message_stop":
            self.finished = True


def _stream(call: _Call, params: dict[str, Any],
            cancel_event: threading.Event | None) -> Iterator[str]:
    opened = call.run(lambda: _OpenStream(call, params), finish=False, cancel_event=cancel_event)
    status: Literal["succeeded", "failed", "cancelled"] = "cancelled"
    error: str | None = CANCELLED
    try:
        if opened.first:
            yield opened.first
        for event in opened.events:
            if cancel_event is not None and cancel_event.is_set():
                break
            if call.remaining_s() <= 0:
                status, error = "failed", DEADLINE
                raise ClaudeIncomplete(DEADLINE)
            opened.note(event)
            text = _text_of(event)
            if text:
                yield text
        else:
            if not opened.finished:  # the stream ended without Claude's "message_stop"
                status, error = "failed", CUT_SHORT
                raise ClaudeIncomplete(CUT_SHORT)
            status, error = "succeeded", None
    except (anthropic.AnthropicError, httpx2.HTTPError):
        status, error = "failed", DROPPED
        raise ClaudeIncomplete(DROPPED) from None
    finally:
        opened.stream.close()
        call.take_usage(opened.input_usage)
        call.usage.output_tokens = max(call.usage.output_tokens, opened.output_tokens)
        call.finish(status, error)


# --- Message Batches (half price, results within hours) ---------------------------------

BATCH_DISCOUNT = 0.5


class BatchStatus(BaseModel):
    id: str
    is_ended: bool
    processing: int = 0


class BatchResult(BaseModel):
    custom_id: str
    is_succeeded: bool
    text: str = ""
    tool_input: dict[str, Any] | None = None
    usage: CallUsage | None = None
    error: str | None = None
    is_cancelled: bool = False  # never ran because the batch was cancelled: send it again


def submit_batch(requests: list[dict[str, Any]]) -> BatchStatus:
    """Creates a Message Batch of `{"custom_id", "params"}` requests (params as for a
    Messages call); the budget is the caller's to check first."""
    settings = get_settings()
    try:
        batch = _client(settings).messages.batches.create(requests=requests)  # type: ignore[arg-type]
    except (anthropic.AnthropicError, httpx2.HTTPError) as err:
        raise ClaudeUnavailable(_batch_failure(err)) from None
    return BatchStatus(id=batch.id, is_ended=batch.processing_status == "ended",
                       processing=batch.request_counts.processing)


def batch_status(batch_id: str) -> BatchStatus:
    try:
        batch = _client(get_settings()).messages.batches.retrieve(batch_id)
    except (anthropic.AnthropicError, httpx2.HTTPError) as err:
        raise ClaudeUnavailable(_batch_failure(err)) from None
    return BatchStatus(id=batch.id, is_ended=batch.processing_status == "ended",
                       processing=batch.request_counts.processing)


def cancel_batch(batch_id: str) -> None:
    try:
        _client(get_settings()).messages.batches.cancel(batch_id)
    except (anthropic.AnthropicError, httpx2.HTTPError) as err:
        raise ClaudeUnavailable(_batch_failure(err)) from None


def batch_results(batch_id: str, *, user: str, feature: str) -> Iterator[BatchResult]:
    """Each request's outcome as the results file is read, with its usage at batch prices."""
    settings = get_settings()
    try:
        entries = _client(settings).messages.batches.results(batch_id)
        for entry in entries:
            yield _batch_result(entry, user=user, feature=feature, settings=settings)
    except (anthropic.AnthropicError, httpx2.HTTPError) as err:
        raise ClaudeUnavailable(_batch_failure(err)) from None


def _batch_result(entry: Any, *, user: str, feature: str, settings: Settings) -> BatchResult:
    result = entry.result
    if result.type != "succeeded":
        reason = "the request expired" if result.type == "expired" else (
            "the batch was cancelled" if result.type == "canceled" else "Claude refused it")
        return BatchResult(custom_id=entry.custom_id, is_succeeded=False,
                           error=f"This call did not run: {reason}.",
                           is_cancelled=result.type == "canceled")
    message = result.message
    usage = CallUsage(user=user, feature=feature, model=message.model, attempts=1)
    usage.input_tokens = int(message.usage.input_tokens or 0)
    usage.output_tokens = int(message.usage.output_tokens or 0)
    usage.cache_read_tokens = int(getattr(message.usage, "cache_read_input_tokens", 0) or 0)
    usage.cache_write_tokens = int(
        getattr(message.usage, "cache_creation_input_tokens", 0) or 0)
    usage.cache_write_1h_tokens = _hour_writes(message.usage)
    full = estimate_cost(message.model, usage, settings)
    usage.cost_estimate = None if full is None else full * BATCH_DISCOUNT
    text = "".join(b.text for b in message.content if b.type == "text")
    tools = [b.input for b in message.content if b.type == "tool_use"]
    return BatchResult(custom_id=entry.custom_id, is_succeeded=True, text=text,
                       tool_input=dict(tools[0]) if tools else None, usage=usage)


def _batch_failure(err: Exception) -> str:
    if isinstance(err, anthropic.APIStatusError):
        return _status_failure(err, "")[0]
    return CONNECTION
