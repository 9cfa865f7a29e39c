"""A real HTTP fake of the Anthropic Messages API, for tests and browser journeys.

The official SDK talks to it through `base_url`, exactly as it would talk to the real API:

    with FakeClaude() as fake:                      # 127.0.0.1, free port
        fake.script([{"match": "revenue", "text": "Revenue grew."}])
        fake.fail_next(status=429, count=2, retry_after=0.1)
        ...  # point ANTHROPIC_BASE_URL at fake.base_url
        assert fake.requests[0]["body"]["model"]

Standalone (for `streamlit run` in browser tests):

    python -m tests.fakes.claude_server --port 8765 [--script replies.json] [--latency 0.1]

A reply is a dict: `text` (a text reply) or `tool_use` ({"name", "input"}), optional
`match` (regex on the last user message), `when_tools` (true/false: only when the request
does / does not carry tools), `usage` (token counts), `delay` (seconds before replying),
`chunk_delay` (seconds between streamed events), `chunk_size` (characters per text delta),
`end_after_events` (a stream that ends cleanly after that many events, before message_stop).
`fake.answer_questions({question: sql})` scripts Ask by question (the evaluation's mode).
Without a matching reply the default responder answers: with a tool it plans a SQL query
from the table and column names it can read in the prompt; without one it writes a short
answer from the result rows in the prompt.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

Reply = dict[str, Any]
Responder = Callable[[dict[str, Any]], Reply]

MODELS = ["claude-sonnet-4-6", "claude-haiku-4-5", "claude-opus-4-7"]
_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}
_ids = itertools.count(1)


# --- default responder: plausible SQL plans and answers ---------------------------------

_TABLE_RE = re.compile(r'"table":\s*"((?:[^"\\]|\\.)+)"')
_COLUMN_RE = re.compile(r'\{"name":\s*"((?:[^"\\]|\\.)+)",\s*"(?:label|display_name)"[^{}]*?'
                        r'"type":\s*"([^"]+)"')
_GROUPING_WORDS = re.compile(r"\b(which|by|per|each|most|top|fastest|highest|lowest|grew)\b",
                             re.IGNORECASE)
_NUMERIC_TYPES = ("number", "whole number")
_DATA_RE = re.compile(r"<data>\s*(.*?)\s*</data>", re.DOTALL)


def _all_text(body: dict[str, Any]) -> str:
    parts = [_content_text(body.get("system"))]
    parts += [_content_text(m.get("content")) for m in body.get("messages", [])]
    return "\n".join(parts)


def _content_text(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    texts = []
    for block in content:
        if isinstance(block, dict):
            texts.append(str(block.get("text") or block.get("content") or ""))
    return "\n".join(texts)


def last_user_text(body: dict[str, Any]) -> str:
    users = [m for m in body.get("messages", []) if m.get("role") == "user"]
    return _content_text(users[-1].get("content")) if users else ""


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def plan_sql(body: dict[str, Any]) -> Reply:
    """A SQL plan read from the schema block in the prompt (no intelligence, just shape)."""
    text = _all_text(body)
    table_match = _TABLE_RE.search(text)
    if table_match is None:
        sql = "SELECT 1 AS answer"
        return {"tool_use": {"name": _tool_name(body), "input": {
            "sql": sql, "chart": None, "explanation": "No table was offered."}}}
    table = json.loads(f'"{table_match.group(1)}"')
    next_table = _TABLE_RE.search(text, table_match.end())
    block = text[table_match.end():next_table.start() if next_table else len(text)]
    columns = [(json.loads(f'"{n}"'), t) for n, t in _COLUMN_RE.findall(block)]
    question = last_user_text(body)
    texts = _mentioned_first([n for n, t in columns if t in ("text", "category")], question)
    numbers = _mentioned_first([n for n, t in columns if t in _NUMERIC_TYPES], question)
    if texts and _GROUPING_WORDS.search(question):
        group = texts[0]
        measure = f"sum({_quote(numbers[0])})" if numbers else "count(*)"
        alias = f"total_{numbers[0]}" if numbers else "rows"
        sql = (f"SELECT {_quote(group)}, {measure} AS {_quote(alias)} FROM {_quote(table)} "
               f"GROUP BY 1 ORDER BY 2 DESC LIMIT 20")
        chart: dict[str, Any] | None = {"chart_type": "bar", "x": group, "y": alias}
        explanation = f"Adds up {alias} for each {group} and sorts from highest to lowest."
    else:
        sql = f"SELECT * FROM {_quote(table)} LIMIT 5"
        chart = None
        explanation = f"Shows the first five rows of {table}."
    return {"tool_use": {"name": _tool_name(body), "input": {
        "sql": sql, "chart": chart, "explanation": explanation}}}


def _mentioned_first(names: list[str], question: str) -> list[str]:
    """Columns named in the question first ("which region ..." → the region column)."""
    lowered = question.lower()
    return sorted(names, key=lambda n: n.replace("_", " ").lower() not in lowered)


def _tool_name(body: dict[str, Any]) -> str:
    choice = body.get("tool_choice") or {}
    if choice.get("name"):
        return str(choice["name"])
    return str(body["tools"][0]["name"])


def write_answer(body: dict[str, Any]) -> Reply:
    """A short answer that quotes the first result row from the prompt's data block."""
    found = _DATA_RE.search(last_user_text(body))
    if found is None:
        return {"text": "I can help with questions about your datasets."}
    try:
        data = json.loads(found.group(1))
        rows = data.get("rows") or []
        columns = data.get("columns") or []
    except (ValueError, AttributeError):
        return {"text": "The result is shown in the table below."}
    if not rows:
        return {"text": "The query returned no rows, so there is nothing to report."}
    first = ", ".join(f"{c} {v}" for c, v in zip(columns, rows[0], strict=False))
    return {"text": f"The result has {len(rows)} rows. The top row is {first}. "
                    "See the table and chart below for the rest.", "chunk_delay": 0.02}


def default_responder(body: dict[str, Any]) -> Reply:
    return plan_sql(body) if body.get("tools") else write_answer(body)


def first_question(body: dict[str, Any]) -> str:
    """The question of an Ask conversation's first turn (its repairs come after it)."""
    users = [m for m in body.get("messages", []) if m.get("role") == "user"]
    text = _content_text(users[0].get("content")) if users else ""
    return text.removeprefix("Question: ").split("\n\n")[0].strip()


def answering(answers: dict[str, str], texts: dict[str, str] | None = None) -> Responder:
    """The evaluation mode: Ask's planning call for a question in `answers` gets that SQL —
    again on every repair, so a refused query stays refused — and the answer call the
    question's text in `texts`, else a short text from the result rows, at once. Other
    questions get the default responder."""
    def respond(body: dict[str, Any]) -> Reply:
        if not body.get("tools"):
            written = (texts or {}).get(first_question(body))
            if written is not None:
                return {"text": written}
            return {k: v for k, v in write_answer(body).items() if k != "chunk_delay"}
        sql = answers.get(first_question(body))
        if sql is None:
            return plan_sql(body)
        return {"tool_use": {"name": _tool_name(body), "input": {
            "sql": sql, "chart": None, "explanation": "The scripted query for this question."}}}
    return respond


# --- message rendering -----------------------------------------------------------------

def count_input_tokens(body: dict[str, Any]) -> int:
    """The fake's token count: a quarter of the request's characters (also its usage)."""
    counted = {k: body.get(k) for k in ("model", "system", "messages", "tools") if k in body}
    return max(1, len(json.dumps(counted)) // 4)


# --- prompt caching, as the API documents it ---------------------------------------------
# The prefix runs tools → system → messages; a block marked with cache_control ends a
# cached prefix. Minimum cacheable lengths from the current docs (Opus 4.5+ and Haiku 4.5:
# 4,096 tokens; Sonnet 4.6: 2,048; older models 1,024).
MAX_BREAKPOINTS = 4
LOOKBACK_BLOCKS = 20  # the API checks this many blocks before a breakpoint for a hit
CACHE_TTL_S = {"5m": 300.0, "1h": 3600.0}
_MIN_CACHEABLE = {"claude-opus-4-5": 4096, "claude-opus-4-6": 4096, "claude-opus-4-7": 4096,
                  "claude-sonnet-4-6": 2048, "claude-haiku-4-5": 4096}


def min_cacheable_tokens(model: str) -> int:
    return next((n for name, n in _MIN_CACHEABLE.items() if model.startswith(name)), 1024)


def prompt_blocks(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The request's prompt as one ordered list of blocks: tools, system, then messages."""
    blocks: list[dict[str, Any]] = [dict(t) for t in body.get("tools") or []]
    system = body.get("system")
    if isinstance(system, str) and system:
        blocks.append({"type": "text", "text": system})
    elif isinstance(system, list):
        blocks.extend(dict(b) for b in system)
    for message in body.get("messages") or []:
        content = message.get("content")
        parts = [{"type": "text", "text": content}] if isinstance(content, str) else content
        blocks.extend({**b, "role": message.get("role")} for b in parts or [])
    return blocks


def _prefix_tokens(model: str, blocks: list[dict[str, Any]]) -> int:
    """The same quarter-of-the-characters count the fake uses for whole requests."""
    unmarked = [{k: v for k, v in b.items() if k != "cache_control"} for b in blocks]
    return len(json.dumps({"model": model, "blocks": unmarked})) // 4


class PromptCache:
    """Cached prefixes (model + blocks up to a breakpoint) with their expiry times."""

    def __init__(self) -> None:
        self.entries: dict[str, float] = {}
        self.clock_offset = 0.0  # tests move time forward instead of sleeping

    def now(self) -> float:
        return time.monotonic() + self.clock_offset

    def account(self, body: dict[str, Any]) -> dict[str, Any]:
        """Usage for one request: cached reads, cache writes (by time to live), the rest."""
        model = str(body.get("model", ""))
        blocks = prompt_blocks(body)
        marks = [i for i, b in enumerate(blocks) if b.get("cache_control")]
        if not marks:
            return {}  # counted exactly as before caching existed
        total = _prefix_tokens(model, blocks)  # the same counter as the prefixes below
        now = self.now()
        key = lambda i: _prefix_key(model, blocks[: i + 1])  # noqa: E731 - local shorthand
        read_end = -1
        for mark in marks:
            for i in range(mark, max(-1, mark - LOOKBACK_BLOCKS), -1):
                if self.entries.get(key(i), 0.0) > now:
                    read_end = max(read_end, i)
                    break
        read = _prefix_tokens(model, blocks[: read_end + 1]) if read_end >= 0 else 0
        written = {"5m": 0, "1h": 0}
        done = read
        minimum = min_cacheable_tokens(model)
        for mark in marks:
            ttl = str(blocks[mark]["cache_control"].get("ttl") or "5m")
            size = _prefix_tokens(model, blocks[: mark + 1])
            if size < minimum:
                continue  # too short to cache: billed as ordinary input
            self.entries[key(mark)] = now + CACHE_TTL_S.get(ttl, 300.0)
            if mark > read_end:
                written[ttl if ttl in written else "5m"] += max(0, size - done)
                done = max(done, size)
        if read_end >= 0:
            self.entries[key(read_end)] = max(self.entries[key(read_end)], now + 300.0)
        creation = written["5m"] + written["1h"]
        return {
            "input_tokens": max(1, total - read - creation),
            "cache_read_input_tokens": read,
            "cache_creation_input_tokens": creation,
            "cache_creation": {"ephemeral_5m_input_tokens": written["5m"],
                               "ephemeral_1h_input_tokens": written["1h"]},
        }


def _prefix_key(model: str, blocks: list[dict[str, Any]]) -> str:
    unmarked = [{k: v for k, v in b.items() if k != "cache_control"} for b in blocks]
    return json.dumps({"model": model, "blocks": unmarked}, sort_keys=True)


def cache_problem(body: dict[str, Any]) -> str | None:
    """The API's refusal of a request with too many cache breakpoints, else None."""
    marks = sum(1 for b in prompt_blocks(body) if b.get("cache_control"))
    if marks > MAX_BREAKPOINTS:
        return (f"A maximum of {MAX_BREAKPOINTS} blocks with cache_control may be provided. "
                f"Found {marks}.")
    return None


def _usage(body: dict[str, Any], reply: Reply, output_text: str,
           cache: dict[str, Any] | None = None) -> dict[str, Any]:
    usage: dict[str, Any] = {
        "input_tokens": count_input_tokens(body),
        "output_tokens": max(1, len(output_text) // 4),
        "cache_read_input_tokens": 0,
        "cache_creation_input_tokens": 0,
    }
    usage.update(cache or {})
    usage.update(reply.get("usage") or {})
    return usage


def _content_blocks(reply: Reply) -> list[dict[str, Any]]:
    if "tool_use" in reply:
        tool = reply["tool_use"]
        return [{"type": "tool_use", "id": f"toolu_fake{next(_ids)}", "name": tool["name"],
                 "input": tool.get("input", {})}]
    return [{"type": "text", "text": str(reply.get("text", ""))}]


def render_message(body: dict[str, Any], reply: Reply,
                   cache: dict[str, Any] | None = None) -> dict[str, Any]:
    content = _content_blocks(reply)
    output = json.dumps(content)
    return {
        "id": f"msg_fake{next(_ids)}",
        "type": "message",
        "role": "assistant",
        "model": body.get("model", MODELS[0]),
        "content": content,
        "stop_reason": "tool_use" if "tool_use" in reply else "end_turn",
        "stop_sequence": None,
        "usage": _usage(body, reply, output, cache),
    }


def sse_events(message: dict[str, Any], chunk_size: int) -> Iterator[tuple[str, dict[str, Any]]]:
    """The Messages API streaming events for a finished message, in order."""
    usage = dict(message["usage"])
    start = {**message, "content": [], "stop_reason": None,
             "usage": {**usage, "output_tokens": 1}}
    yield "message_start", {"type": "message_start", "message": start}
    for index, block in enumerate(message["content"]):
        if block["type"] == "text":
            opening: dict[str, Any] = {"type": "text", "text": ""}
            payload, delta_type, key = block["text"], "text_delta", "text"
        else:
            opening = {**block, "input": {}}
            payload = json.dumps(block["input"])
            delta_type, key = "input_json_delta", "partial_json"
        yield "content_block_start", {"type": "content_block_start", "index": index,
                                      "content_block": opening}
        yield "ping", {"type": "ping"}
        for offset in range(0, len(payload), chunk_size):
            yield "content_block_delta", {"type": "content_block_delta", "index": index,
                                          "delta": {"type": delta_type,
                                                    key: payload[offset:offset + chunk_size]}}
        yield "content_block_stop", {"type": "content_block_stop", "index": index}
    yield "message_delta", {"type": "message_delta",
                            "delta": {"stop_reason": message["stop_reason"], "stop_sequence": None},
                            "usage": {"output_tokens": usage["output_tokens"]}}
    yield "message_stop", {"type": "message_stop"}


# --- the server ------------------------------------------------------------------------

class _State:
    """Script, queued replies, pending faults and the request log, shared by all threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.rules: list[Reply] = []
        self.queue: list[Reply] = []
        self.faults: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []
        self.latency = 0.0
        self.responder: Responder = default_responder
        self.fault_rate: tuple[float, dict[str, Any], random.Random] | None = None
        self.batches: dict[str, dict[str, Any]] = {}  # Message Batches: id → batch + requests
        self.batch_seconds = 0.0  # how long a batch stays "in_progress" after it is created
        self.prompt_cache = PromptCache()

    def take_fault(self) -> dict[str, Any] | None:
        with self.lock:
            if not self.faults:
                return self._random_fault()
            fault = self.faults[0]
            fault["count"] -= 1
            if fault["count"] <= 0:
                self.faults.pop(0)
            return dict(fault)

    def _random_fault(self) -> dict[str, Any] | None:
        if self.fault_rate is None:
            return None
        rate, fault, rng = self.fault_rate
        return dict(fault) if rng.random() < rate else None

    def choose(self, body: dict[str, Any]) -> Reply:
        with self.lock:
            if self.queue:
                return self.queue.pop(0)
            rules = list(self.rules)
        question = last_user_text(body)
        has_tools = bool(body.get("tools"))
        for rule in rules:
            if "when_tools" in rule and bool(rule["when_tools"]) != has_tools:
                continue
            if "match" in rule and not re.search(rule["match"], question, re.IGNORECASE):
                continue
            return rule
        return self.responder(body)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # header and body go out as separate writes
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet by design
        return

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        self._log(None)
        path = self.path.split("?")[0]
        if path.startswith("/v1/messages/batches/"):
            self._batch_get(path.removeprefix("/v1/messages/batches/"))
            return
        if path != "/v1/models":
            self._send_error(404, "Not found.")
            return
        data = [{"type": "model", "id": m, "display_name": m.replace("-", " ").title(),
                 "created_at": "2025-09-29T00:00:00Z"} for m in MODELS]
        self._send_json(200, {"data": data, "has_more": False, "first_id": MODELS[0],
                              "last_id": MODELS[-1]})

    def do_POST(self) -> None:  # noqa: N802 - http.server naming
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b"{}"
        try:
            body = json.loads(raw)
        except ValueError:
            self._send_error(400, "The request body is not JSON.")
            return
        entry = self._log(body)
        if self.path.split("?")[0].startswith("/v1/messages/batches"):
            self._batch_post(self.path.split("?")[0], body)
            return
        if self.path.split("?")[0] == "/v1/messages/count_tokens":
            self._send_json(200, {"input_tokens": count_input_tokens(body)})
            return
        if self.path.split("?")[0] != "/v1/messages":
            self._send_error(404, "Not found.")
            return
        state = self.server.state
        problem = cache_problem(body)
        if problem is not None:
            self._send_error(400, problem)
            return
        fault = state.take_fault()
        if fault is not None and self._apply_fault(fault):
            entry["refused"] = True  # not answered: a fault stood in for the reply
            return  # refusals come back at once, as the real API's do
        if state.latency:
            time.sleep(state.latency)
        reply = state.choose(body)
        if reply.get("delay"):
            time.sleep(float(reply["delay"]))
        with state.lock:
            cache = state.prompt_cache.account(body)
        message = render_message(body, reply, cache)
        if body.get("stream"):
            drop_after = int(fault["after_events"]) if fault and fault["kind"] == "drop_mid" else 0
            self._send_stream(message, reply, drop_after=drop_after)
        else:
            self._send_json(200, message, drop=bool(fault and fault["kind"] == "drop_mid"))

    # -- Message Batches (create, retrieve, results, cancel) --

    def _batch_view(self, batch: dict[str, Any]) -> dict[str, Any]:
        done = self._batch_done(batch)
        ended = batch["cancelled"] or done
        total = len(batch["requests"])
        counts = {"processing": 0 if ended else total, "succeeded": 0, "errored": 0,
                  "canceled": total if batch["cancelled"] and not done else 0, "expired": 0}
        if ended and not (batch["cancelled"] and not done):
            counts["succeeded"] = total
        return {"id": batch["id"], "type": "message_batch",
                "processing_status": "ended" if ended else "in_progress",
                "request_counts": counts, "created_at": "2026-01-01T00:00:00Z",
                "expires_at": "2026-01-02T00:00:00Z", "archived_at": None,
                "cancel_initiated_at": "2026-01-01T00:00:01Z" if batch["cancelled"] else None,
                "ended_at": "2026-01-01T00:01:00Z" if ended else None,
                "results_url": (f"{self._base()}/v1/messages/batches/{batch['id']}/results"
                                if ended else None)}

    def _batch_done(self, batch: dict[str, Any]) -> bool:
        """Worked through: its time has passed, or it had passed when it was cancelled."""
        if batch["cancelled"]:
            return bool(batch["done_when_cancelled"])
        return time.monotonic() - batch["created"] >= self.server.state.batch_seconds

    def _base(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def _batch_post(self, path: str, body: dict[str, Any]) -> None:
        state = self.server.state
        if path == "/v1/messages/batches":
            batch = {"id": f"msgbatch_fake{next(_ids)}", "requests": body.get("requests", []),
                     "created": time.monotonic(), "cancelled": False}
            with state.lock:
                state.batches[batch["id"]] = batch
            self._send_json(200, self._batch_view(batch))
            return
        batch_id = path.removeprefix("/v1/messages/batches/").removesuffix("/cancel")
        batch = state.batches.get(batch_id)
        if batch is None or not path.endswith("/cancel"):
            self._send_error(404, "No such batch.")
            return
        batch["done_when_cancelled"] = self._batch_done(batch)
        batch["cancelled"] = True
        self._send_json(200, self._batch_view(batch))

    def _batch_get(self, rest: str) -> None:
        state = self.server.state
        batch_id, _, tail = rest.partition("/")
        batch = state.batches.get(batch_id)
        if batch is None:
            self._send_error(404, "No such batch.")
            return
        if not tail:
            self._send_json(200, self._batch_view(batch))
            return
        lines = []
        never_ran = batch["cancelled"] and not batch["done_when_cancelled"]
        for request in batch["requests"]:
            params = request.get("params", {})
            reply = state.choose(params)
            if never_ran:  # as the API does: a batch cancelled early answers nothing
                result = {"type": "canceled"}
            elif reply.get("batch_error"):
                result = {"type": "errored", "error": {"type": "error", "error": {
                    "type": "invalid_request_error", "message": reply["batch_error"]}}}
            else:
                with state.lock:  # batch requests read and write the prompt cache too
                    cache = state.prompt_cache.account(params)
                result = {"type": "succeeded", "message": render_message(params, reply, cache)}
            lines.append(json.dumps({"custom_id": request.get("custom_id"), "result": result}))
        data = ("\n".join(lines) + "\n").encode()
        self.send_response(200)
        self.send_header("content-type", "application/binary")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    # -- helpers --

    def _log(self, body: dict[str, Any] | None) -> dict[str, Any]:
        entry = {"method": self.command, "path": self.path,
                 "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body,
                 "time": time.monotonic(), "refused": False}
        with self.server.state.lock:
            self.server.state.requests.append(entry)
        return entry

    def _apply_fault(self, fault: dict[str, Any]) -> bool:
        """Returns True when the fault replaced the reply."""
        if fault["kind"] == "delay":
            time.sleep(fault["delay"])
            return False
        if fault["kind"] == "drop":
            self._drop()
            return True
        if fault["kind"] == "status":
            headers = {}
            if fault.get("retry_after") is not None:
                headers["retry-after"] = str(fault["retry_after"])
            self._send_error(fault["status"], fault.get("message") or "Injected fault.",
                             headers)
            return True
        return False

    def _drop(self) -> None:
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _send_error(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        error_type = _ERROR_TYPES.get(status, "api_error")
        payload = {"type": "error", "error": {"type": error_type, "message": message}}
        self._send_json(status, payload, headers=headers)

    def _send_json(self, status: int, payload: dict[str, Any], *, drop: bool = False,
                   headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.send_header("request-id", f"req_fake{next(_ids)}")
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if drop:  # half a body, then the socket goes away
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self._drop()
            return
        self.wfile.write(data)

    def _send_stream(self, message: dict[str, Any], reply: Reply, *, drop_after: int) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("transfer-encoding", "chunked")
        self.send_header("request-id", f"req_fake{next(_ids)}")
        self.end_headers()
        chunk_delay = float(reply.get("chunk_delay", 0))
        chunk_size = int(reply.get("chunk_size", 12))
        end_after = int(reply.get("end_after_events", 0))
        try:
            for number, (event, data) in enumerate(sse_events(message, chunk_size)):
                if drop_after and number == drop_after:  # part-way: the socket goes away
                    self._drop()
                    return
                if end_after and number == end_after:  # a tidy end, but no message_stop
                    break
                frame = f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()
                self.wfile.write(f"{len(frame):x}\r\n".encode() + frame + b"\r\n")
                self.wfile.flush()
                if chunk_delay and event == "content_block_delta":
                    time.sleep(chunk_delay)
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client hung up (cancelled): fine


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    state: _State


class FakeClaude:
    """Start/stop wrapper with a mutable script; also a context manager."""

    def __init__(self, port: int = 0, *, latency: float = 0.0) -> None:
        self._server = _Server(("127.0.0.1", port), _Handler)
        self._server.state = _State()
        self._server.state.latency = latency
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakeClaude:
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeClaude:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # -- scripting --

    def script(self, rules: list[Reply], responder: Responder | None = None) -> None:
        """Replace the pattern rules (first match wins); optionally the default responder."""
        with self._server.state.lock:
            self._server.state.rules = list(rules)
            if responder is not None:
                self._server.state.responder = responder

    def answer_questions(self, answers: dict[str, str],
                         texts: dict[str, str] | None = None) -> None:
        """Ask's question → the SQL to plan for it (gold, wrong or refused), and optionally
        → the answer to write, for evaluations."""
        self.script([], responder=answering(answers, texts))

    def enqueue(self, *replies: Reply) -> None:
        """Replies used in order for the next requests, before any rule."""
        with self._server.state.lock:
            self._server.state.queue.extend(replies)

    def fail_next(self, status: int = 500, count: int = 1, *, retry_after: float | None = None,
                  message: str | None = None) -> None:
        self._add_fault({"kind": "status", "status": status, "count": count,
                         "retry_after": retry_after, "message": message})

    def fail_fraction(self, rate: float, status: int = 429, *,
                      retry_after: float | None = None, seed: int = 0) -> None:
        """Refuse a random `rate` share of requests (after any queued faults); 0 turns it off."""
        fault = {"kind": "status", "status": status, "count": 1, "retry_after": retry_after,
                 "message": None}
        with self._server.state.lock:
            self._server.state.fault_rate = (rate, fault, random.Random(seed)) if rate else None

    def delay_next(self, seconds: float, count: int = 1) -> None:
        self._add_fault({"kind": "delay", "delay": seconds, "count": count})

    def drop_next(self, count: int = 1, *, mid_response: bool = False,
                  after_events: int = 1) -> None:
        """Close the socket: before any reply, or part-way through the body (for a stream,
        after `after_events` SSE events; 1 = right after message_start)."""
        self._add_fault({"kind": "drop_mid" if mid_response else "drop", "count": count,
                         "after_events": max(1, after_events)})

    def set_batch_seconds(self, seconds: float) -> None:
        """How long a Message Batch stays in progress before its results are ready."""
        self._server.state.batch_seconds = seconds

    @property
    def batches(self) -> dict[str, dict[str, Any]]:
        with self._server.state.lock:
            return dict(self._server.state.batches)

    def advance_clock(self, seconds: float) -> None:
        """Move the prompt cache's clock forward (to expire cached prefixes in tests)."""
        with self._server.state.lock:
            self._server.state.prompt_cache.clock_offset += seconds

    def set_latency(self, seconds: float) -> None:
        self._server.state.latency = seconds

    def _add_fault(self, fault: dict[str, Any]) -> None:
        with self._server.state.lock:
            self._server.state.faults.append(fault)

    def reset(self) -> None:
        with self._server.state.lock:
            state = self._server.state
            state.rules, state.queue, state.faults, state.requests = [], [], [], []
            state.responder = default_responder
            state.latency = 0.0
            state.fault_rate = None
            state.batches = {}
            state.batch_seconds = 0.0
            state.prompt_cache = PromptCache()

    @property
    def requests(self) -> list[dict[str, Any]]:
        with self._server.state.lock:
            return list(self._server.state.requests)

    @property
    def message_requests(self) -> list[dict[str, Any]]:
        """Calls of the model itself (not token counts or Message Batches requests)."""
        return [r for r in self.requests if r["path"].split("?")[0] == "/v1/messages"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Fake Anthropic Messages API on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--script", type=Path, help="JSON list of replies (see module doc)")
    parser.add_argument("--latency", type=float, default=0.0)
    args = parser.parse_args(argv)
    fake = FakeClaude(args.port, latency=args.latency)
    if args.script:
        fake.script(json.loads(args.script.read_text()))
    print(f"fake Claude listening on {fake.base_url}", flush=True)
    try:
        fake._server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        fake._server.server_close()


if __name__ == "__main__":
    main()


def point_claude_at(fake: FakeClaude, monkeypatch: Any, *, key: str = "sk-test-fake",
                    timeout_s: float = 5, max_retries: int = 3) -> None:
    """Test helper: settings (via environment) aimed at `fake`, with fast retries."""
    from services import settings
    from services.claude import client as claude

    monkeypatch.setenv("RESEARCH_DESK_SECRETS_FILE", "/nonexistent/secrets.toml")
    monkeypatch.setenv("ANTHROPIC_API_KEY", key)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", fake.base_url)
    monkeypatch.setenv("RESEARCH_DESK_CLAUDE_TIMEOUT_S", str(timeout_s))
    monkeypatch.setenv("RESEARCH_DESK_CLAUDE_MAX_RETRIES", str(max_retries))
    monkeypatch.setattr(claude, "BASE_BACKOFF_S", 0.01)
    monkeypatch.setattr(claude, "_usage_sink", None)
    monkeypatch.setattr(claude, "_budget_check", None)
    monkeypatch.setattr(claude, "_budget_hold", None)
    monkeypatch.setattr(claude, "_budget_release", None)
    monkeypatch.setattr(claude, "_sink_releases_holds", False)
    settings.reset_settings_cache()
    claude.reset_clients()
