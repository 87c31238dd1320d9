"""Role names as found in the wild, mapped to the five roles ms-swift accepts."""

from __future__ import annotations

from swiftpipe.data.reject import Reject

SYSTEM = "system"
USER = "user"
ASSISTANT = "assistant"
TOOL_CALL = "tool_call"
TOOL_RESPONSE = "tool_response"

# Keys are lower-case with '-' and ' ' turned into '_'; see `canonical_role`.
ALIASES: dict[str, str] = {
    "system": SYSTEM,
    "system_prompt": SYSTEM,
    "developer": SYSTEM,
    "user": USER,
    "human": USER,
    "prompter": USER,
    "question": USER,
    "assistant": ASSISTANT,
    "gpt": ASSISTANT,
    "bot": ASSISTANT,
    "chatgpt": ASSISTANT,
    "model": ASSISTANT,
    "ai": ASSISTANT,
    "answer": ASSISTANT,
    "tool_call": TOOL_CALL,
    "function_call": TOOL_CALL,
    "tool_calls": TOOL_CALL,
    "tool_response": TOOL_RESPONSE,
    "tool": TOOL_RESPONSE,
    "function_response": TOOL_RESPONSE,
    "function": TOOL_RESPONSE,
    "observation": TOOL_RESPONSE,
    "observations": TOOL_RESPONSE,
    "ipython": TOOL_RESPONSE,
}

_HINT = (
    "use system, user, assistant, tool_call or tool_response "
    "(or an alias such as human, gpt, function_call, observation)"
)


def canonical_role(raw: object, where: str) -> str:
    """Return the swift role for `raw`, or raise `Reject('unknown_role')`.

    The exact-match lookup comes first because nearly every row uses a canonical
    spelling already; only the rare odd spelling pays for the normalisation.
    """
    if type(raw) is str:
        role = ALIASES.get(raw)
        if role is not None:
            return role
        role = ALIASES.get(raw.strip().lower().replace("-", "_").replace(" ", "_"))
        if role is not None:
            return role
    raise Reject("unknown_role", f"{where}: unknown role {raw!r}; {_HINT}")
