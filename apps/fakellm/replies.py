"""Deterministic reply, usage and embedding builders for the fake LLM server.

Everything here is a pure function of the request body, so the same request
always yields the same content and vectors (ids and timestamps aside).
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
import struct
import time
import uuid
from typing import Any

from apps.fakellm import abtest, demo, proposer, script, search_task

EMBEDDING_DIM = 64
ECHO_CHARS = 200

_REPLY_LINE = re.compile(r"^[ \t]*REPLY:[ ]?(.*?)\r?$", re.MULTILINE)
_WORD = re.compile(r"\S+")
# Stream pieces keep their leading whitespace so joined deltas equal the content.
_PIECE = re.compile(r"\s*\S+|\s+$")


def message_text(message: Any) -> str:
    """Text of one chat message; content may be a string or a list of parts."""
    if not isinstance(message, dict):
        return ""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [p.get("text", "") for p in content if isinstance(p, dict)]
        return "\n".join(p for p in parts if isinstance(p, str))
    return ""


def last_user_text(messages: list[Any]) -> str:
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            return message_text(message)
    return ""


def system_text(body: dict[str, Any]) -> str:
    """System instructions: OpenAI-style system messages plus an Anthropic-style `system` field."""
    parts = [message_text(m) for m in body["messages"] if isinstance(m, dict) and m.get("role") == "system"]
    if body.get("system"):
        parts.append(message_text({"content": body["system"]}))
    return "\n".join(parts)


def count_words(text: str) -> int:
    return len(_WORD.findall(text))


def request_digest(body: dict[str, Any]) -> str:
    """SHA-256 over the fields that should change the reply."""
    key = [
        body.get("model"),
        body.get("messages"),
        body.get("temperature"),
        body.get("top_p"),
        body.get("seed"),
        max_tokens_of(body),
    ]
    # sort_keys: key order inside the messages must not change the reply.
    raw = json.dumps(key, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def max_tokens_of(body: dict[str, Any]) -> int | None:
    value = body.get("max_tokens", body.get("max_completion_tokens"))
    return value if isinstance(value, int) and value >= 0 else None


def scripted_reply(text: str) -> str | None:
    """Content of the first `REPLY: ...` line, with `\\n` escapes expanded."""
    match = _REPLY_LINE.search(text)
    if match is None:
        return None
    return match.group(1).replace("\\n", "\n")


def truncate_words(text: str, limit: int | None) -> tuple[str, bool]:
    """Cut `text` after `limit` words, keeping the original spacing."""
    if limit is None:
        return text, False
    words = list(_WORD.finditer(text))
    if len(words) <= limit:
        return text, False
    if limit == 0:
        return "", True
    return text[: words[limit - 1].end()], True


def reply_content(body: dict[str, Any]) -> tuple[str, str]:
    """Return (content, finish_reason) for a chat request body."""
    user_text = last_user_text(body["messages"])
    content = scripted_reply(user_text)
    if content is None:
        content = script.numbered_reply(user_text)
    if content is None and demo.is_demo_model(body["model"]):
        content = demo.demo_reply(model=body["model"], system=system_text(body), user_text=user_text,
                                  temperature=demo.temperature_of(body), digest=request_digest(body))
    if content is None and search_task.is_search_model(body["model"]):
        content = search_task.search_reply(model=body["model"], system=system_text(body), user_text=user_text,
                                           temperature=search_task.temperature_of(body),
                                           digest=request_digest(body))
    if content is None and abtest.is_ab_model(body["model"]):
        content = abtest.ab_reply(model=body["model"], system=system_text(body), user=body.get("user"),
                                  user_text=user_text)
    if content is None and proposer.is_proposer_model(body["model"]):
        content = proposer.proposer_reply(user_text)
    if content is None:
        tag = request_digest(body)[:8]
        content = f"[{body['model']}] echo: {user_text[:ECHO_CHARS]} #{tag}"
    content, cut = truncate_words(content, max_tokens_of(body))
    return content, "length" if cut else "stop"


def usage_block(prompt_tokens: int, completion_tokens: int) -> dict[str, int]:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


def chat_usage(body: dict[str, Any], content: str) -> dict[str, int]:
    prompt = sum(count_words(message_text(m)) for m in body["messages"])
    return usage_block(prompt, count_words(content))


def completion_id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex}"


def chat_completion(body: dict[str, Any]) -> dict[str, Any]:
    content, finish_reason = reply_content(body)
    return {
        "id": completion_id(),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body["model"],
        "system_fingerprint": "fp_fakellm",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "logprobs": None,
                "finish_reason": finish_reason,
            }
        ],
        "usage": chat_usage(body, content),
    }


STOP_REASONS = {"stop": "end_turn", "length": "max_tokens"}


def anthropic_message(body: dict[str, Any]) -> dict[str, Any]:
    """An Anthropic Messages API reply; `system` may be a string or a list of text blocks."""
    content, finish_reason = reply_content(body)
    system = body.get("system")
    system_text = message_text({"content": system}) if system else ""
    prompt = count_words(system_text) + sum(count_words(message_text(m)) for m in body["messages"])
    return {
        "id": f"msg_{uuid.uuid4().hex}",
        "type": "message",
        "role": "assistant",
        "model": body["model"],
        "content": [{"type": "text", "text": content}],
        "stop_reason": STOP_REASONS[finish_reason],
        "stop_sequence": None,
        "usage": {"input_tokens": prompt, "output_tokens": count_words(content)},
    }


def stream_pieces(content: str) -> list[str]:
    return _PIECE.findall(content) or [""]


def chunk(
    base: dict[str, Any], delta: dict[str, Any], finish_reason: str | None = None
) -> dict[str, Any]:
    choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
    return {**base, "choices": [choice]}


def chat_chunks(body: dict[str, Any]) -> list[dict[str, Any]]:
    """All `chat.completion.chunk` objects of a streamed reply, in order.

    The finish chunk always carries `usage`; with `stream_options.include_usage`
    an extra OpenAI-style chunk with empty `choices` and `usage` follows.
    """
    content, finish_reason = reply_content(body)
    usage = chat_usage(body, content)
    base = {
        "id": completion_id(),
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": body["model"],
        "system_fingerprint": "fp_fakellm",
    }
    chunks = [chunk(base, {"role": "assistant", "content": ""})]
    chunks += [chunk(base, {"content": piece}) for piece in stream_pieces(content)]
    chunks.append({**chunk(base, {}, finish_reason), "usage": usage})
    options = body.get("stream_options")
    if isinstance(options, dict) and options.get("include_usage"):
        chunks.append({**base, "choices": [], "usage": usage})
    return chunks


def embedding_vector(text: str, dim: int = EMBEDDING_DIM) -> list[float]:
    """Unit-length vector derived from SHAKE-256 of the text."""
    # SHAKE yields exactly as many bytes as the dimension needs, in one call.
    raw = hashlib.shake_256(text.encode("utf-8")).digest(dim * 2)
    values = [v - 32767.5 for v in struct.unpack(f"<{dim}H", raw)]
    norm = math.sqrt(sum(v * v for v in values))
    return [v / norm for v in values]


def embedding_inputs(value: Any) -> list[str] | None:
    """Normalise `input` (string, list of strings or token lists) to texts."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value and all(isinstance(v, int) for v in value):
        return [json.dumps(value)]
    if isinstance(value, list) and value:
        if all(isinstance(v, (str, list)) for v in value):
            return [v if isinstance(v, str) else json.dumps(v) for v in value]
    return None


def encode_vector(vector: list[float], encoding_format: Any) -> list[float] | str:
    # The official openai SDK asks for base64 (little-endian float32) by default.
    if encoding_format == "base64":
        packed = struct.pack(f"<{len(vector)}f", *vector)
        return base64.b64encode(packed).decode("ascii")
    return vector


def embeddings(body: dict[str, Any], texts: list[str]) -> dict[str, Any]:
    dim = body.get("dimensions")
    dim = dim if isinstance(dim, int) and 0 < dim <= 4096 else EMBEDDING_DIM
    encoding = body.get("encoding_format")
    data = [
        {
            "object": "embedding",
            "index": i,
            "embedding": encode_vector(embedding_vector(text, dim), encoding),
        }
        for i, text in enumerate(texts)
    ]
    prompt = sum(count_words(t) for t in texts)
    return {
        "object": "list",
        "data": data,
        "model": body["model"],
        "usage": {"prompt_tokens": prompt, "total_tokens": prompt},
    }
