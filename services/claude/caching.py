"""Prompt caching: where a request's stable prefix is marked with `cache_control`.

The Messages API reads a prefix (tools → system → messages, in that order) from its cache
when a request repeats it up to a marked block. Marking pays only once the prefix reaches
the model's minimum cacheable length; below it the request is sent as before.
"""

from __future__ import annotations

import json
from typing import Any

# Minimum cacheable prefix, in tokens, per the current Anthropic docs (Opus 4.5 and later
# and Haiku 4.5: 4,096; Sonnet 4.6: 2,048; other current models: 1,024).
_MIN_CACHEABLE = {"claude-opus-4-7": 4096, "claude-opus-4-6": 4096, "claude-opus-4-5": 4096,
                  "claude-sonnet-4-6": 2048, "claude-haiku-4-5": 4096}
DEFAULT_MIN_CACHEABLE = 1024
EPHEMERAL: dict[str, str] = {"type": "ephemeral"}
HOUR: dict[str, str] = {"type": "ephemeral", "ttl": "1h"}
DEFAULT_TTL_S = 300  # a 5-minute entry; every read starts its five minutes again
# What one prompt call usually takes (a short answer from a current model); a batch whose
# units × this ÷ concurrency passes five minutes keeps its prefix for an hour.
TYPICAL_CALL_S = 5.0


def min_cacheable_tokens(model: str) -> int:
    return next((n for name, n in _MIN_CACHEABLE.items() if model.startswith(name)),
                DEFAULT_MIN_CACHEABLE)


def estimate_tokens(*parts: Any) -> int:
    """The rough count the budget holds use (about three characters a token)."""
    return len(json.dumps(parts, default=str, ensure_ascii=False)) // 3 + 1


def pays(model: str, *prefix: Any) -> bool:
    """True when the prefix reaches the model's minimum cacheable length."""
    return estimate_tokens(*prefix) >= min_cacheable_tokens(model)


def mark_conversation(params: dict[str, Any]) -> dict[str, Any]:
    """`params` with up to two breakpoints: the end of tools + system (fixed for a
    conversation) and the latest message (so the next turn, or a repair, reads the history).
    A prefix below the model's minimum is left unmarked."""
    system, tools, messages = params["system"], params.get("tools"), params["messages"]
    if not pays(str(params["model"]), system, tools):
        return params
    marked = {**params, "system": [{"type": "text", "text": system, "cache_control": EPHEMERAL}]}
    if messages:
        marked["messages"] = [*messages[:-1], _marked_message(messages[-1])]
    return marked


def _marked_message(message: dict[str, Any]) -> dict[str, Any]:
    content = message["content"]
    blocks: list[dict[str, Any]] = ([{"type": "text", "text": content}] if isinstance(content, str)
              else [dict(b) for b in content])
    blocks[-1] = {**blocks[-1], "cache_control": EPHEMERAL}
    return {**message, "content": blocks}


def control_for(*, long_run: bool) -> dict[str, str]:
    """The 1-hour time to live for work that outlasts five minutes (a 1-hour write costs 2×
    the input price instead of 1.25×, once), else the default five minutes."""
    return HOUR if long_run else EPHEMERAL


def runs_long(units: int, concurrency: int) -> bool:
    """A batch of `units` calls, `concurrency` at a time, expected to pass five minutes."""
    return units * TYPICAL_CALL_S / max(1, concurrency) > DEFAULT_TTL_S
