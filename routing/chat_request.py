"""A chat completion request as the gateway accepts it: JSON no deeper than ROUTING_MAX_JSON_DEPTH, a printable
`model`, and `messages` shaped as OpenAI defines them. Anything else is a 400 naming the field; the upstream
validates the rest (sampling parameters, tools)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from modelgraph.json_depth import nesting_exceeds
from routing import errors
from routing.conf import setting

ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})
# Roles whose content may be null or absent (an assistant turn that only calls tools).
NULL_CONTENT_ROLES = frozenset({"assistant"})
# The field each known content part type carries, and that field's JSON type.
PART_FIELDS = {
    "text": ("text", str),
    "refusal": ("refusal", str),
    "image_url": ("image_url", dict),
    "input_audio": ("input_audio", dict),
    "file": ("file", dict),
}
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@dataclass
class ChatRequest:
    model: str
    payload: dict
    stream: bool = False
    include_usage: bool = False


def has_control_characters(text: str) -> bool:
    return _CONTROL.search(text) is not None


def _invalid(message: str, param: str | None, code: str = "invalid_value") -> errors.GatewayError:
    return errors.GatewayError(400, message, param=param, code=code)


def _load(raw: bytes | str) -> object:
    data = raw.encode() if isinstance(raw, str) else raw
    limit = setting("ROUTING_MAX_JSON_DEPTH")
    if nesting_exceeds(data, limit):
        raise _invalid(f"The body nests arrays or objects more than {limit} deep.", None, "invalid_json")
    try:
        return json.loads(data)
    except RecursionError:
        raise _invalid(f"The body nests arrays or objects more than {limit} deep.", None, "invalid_json") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise _invalid(f"The body is not valid JSON: {exc}.", None, "invalid_json") from None


def _check_content(content: object, role: str, where: str) -> None:
    if isinstance(content, str):
        return
    if content is None:
        if role in NULL_CONTENT_ROLES:
            return
        raise _invalid(
            f"`{where}` is required for a {role!r} message: a string or a list of content parts.",
            where,
            "missing_required_parameter",
        )
    if not isinstance(content, list):
        raise _invalid(
            f"`{where}` must be a string, a list of content parts"
            f"{' or null' if role in NULL_CONTENT_ROLES else ''}, not {type(content).__name__}.",
            where,
            "invalid_type",
        )
    for index, part in enumerate(content):
        at = f"{where}[{index}]"
        if not isinstance(part, dict) or not isinstance(part.get("type"), str) or not part["type"]:
            raise _invalid(f'`{at}` must be an object with a string `type` (e.g. "text").', at, "invalid_type")
        expected = PART_FIELDS.get(part["type"])
        if expected is not None and not isinstance(part.get(expected[0]), expected[1]):
            kind = "a string" if expected[1] is str else "an object"
            raise _invalid(
                f"`{at}.{expected[0]}` must be {kind} for a {part['type']!r} part.",
                f"{at}.{expected[0]}",
                "invalid_type",
            )


def check_messages(messages: object) -> None:
    """Every message an object with a known role and content of an accepted type."""
    if not isinstance(messages, list) or not messages:
        raise _invalid("`messages` is required: a non-empty list.", "messages", "missing_required_parameter")
    for index, message in enumerate(messages):
        where = f"messages[{index}]"
        if not isinstance(message, dict):
            raise _invalid(f"`{where}` must be an object with `role` and `content`.", where, "invalid_type")
        role = message.get("role")
        if not isinstance(role, str) or role not in ROLES:
            raise _invalid(f"`{where}.role` must be one of {', '.join(sorted(ROLES))}.", f"{where}.role")
        _check_content(message.get("content"), role, f"{where}.content")
        if "name" in message and not isinstance(message["name"], str):
            raise _invalid(f"`{where}.name` must be a string.", f"{where}.name", "invalid_type")


def chat_request_parse(raw: bytes | str | dict) -> ChatRequest:
    """Validate an OpenAI chat request enough to route it safely; the upstream validates the rest."""
    payload = raw if isinstance(raw, dict) else _load(raw)
    if not isinstance(payload, dict):
        raise _invalid("The body must be a JSON object.", None, "invalid_json")
    model = payload.get("model")
    if not isinstance(model, str) or not model.strip():
        raise _invalid("`model` is required: a capability or a model.", "model", "missing_required_parameter")
    if has_control_characters(model):
        raise _invalid("`model` must not contain control characters.", "model")
    check_messages(payload.get("messages"))
    stream = payload.get("stream", False)
    if not isinstance(stream, bool):
        raise _invalid("`stream` must be true or false.", "stream", "invalid_type")
    options = payload.get("stream_options") or {}
    include_usage = bool(options.get("include_usage")) if isinstance(options, dict) else False
    return ChatRequest(model=model.strip(), payload=payload, stream=stream, include_usage=include_usage)
