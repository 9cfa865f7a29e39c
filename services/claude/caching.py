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


def min_cacheable_tokens(model: str) -> int:
    return next((n for name, n in _MIN_CACHEABLE.items() if model.startswith(name)),
                DEFAULT_MIN_CACHEABLE)


def estimate_tokens(*parts: Any) -> int:
    """The rough count the budget holds use (about three characters a token)."""
    return len(json.dumps(parts, default=str, ensure_ascii=False)) // 3 + 1


def mark_conversation(params: dict[str, Any]) -> dict[str, Any]:
    """`params` with up to two breakpoints: the end of tools + system (fixed for a
    conversation) and the latest message (so the next turn, or a repair, reads the history).
    A prefix below the model's minimum is left unmarked."""
    minimum = min_cacheable_tokens(str(params["model"]))
    system, tools, messages = params["system"], params.get("tools"), params["messages"]
    if estimate_tokens(system, tools) < minimum:
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
