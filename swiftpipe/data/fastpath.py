"""The output line for a row in the commonest shape, built without the general machinery.

Most rows of a ShareGPT or messages file are `{"conversations": [{"from", "value"}, ...]}` (or
`{"messages": [{"role", "content"}, ...]}`) with plain string turns. For those the general path
builds a dict per turn, a list of roles, and a row dict to encode; this walks the turns once
and joins the output line straight from strings.

It is only a shortcut, never a judge: it returns None for any row it is not sure of (an odd
key, an unknown spelling, a rule broken, a surrogate), and that row then takes the general
path, which accepts or rejects it with the exact reason. For every row it does accept, its
line is byte for byte what the general path writes (tests/data/test_fastpath.py checks this).
"""

from __future__ import annotations

from json.encoder import encode_basestring, encode_basestring_ascii
from typing import Any

from swiftpipe.data.encode import HEADS, quote
from swiftpipe.data.reject import Reject
from swiftpipe.data.roles import ALIASES, SYSTEM
from swiftpipe.data.validate import check_roles

# format -> (the row's one key, the turn's role key, the turn's content key)
SHAPES = {"sharegpt": ("conversations", "from", "value"), "messages": ("messages", "role", "content")}


class FastPath:
    """`line(row)` -> (encoded line, number of turns, characters of content), or None."""

    def __init__(self, fmt: str, system: str | None) -> None:
        self._field, self._role_key, self._content_key = SHAPES[fmt]
        # The system turn `with_system` inserts into a row that has none of its own.
        self._system = system if system is not None and system.strip() else None
        self._system_piece = f"}}, {HEADS[SYSTEM]}{quote(self._system)}" if self._system is not None else ""

    def line(self, row: dict[str, Any], verbatim: bool) -> tuple[bytes, int, int] | None:
        """The row's output line, or None to send it down the general path.

        `verbatim`: the row's source text holds no backslash. Then none of its strings held an
        escape, so none holds a quote, a backslash or a control character (the parser rejects
        those unescaped), and each is written between quotes as it is: escaping costs nearly
        as much as parsing, and most rows of most files need none.
        """
        turns = row.get(self._field)
        if type(turns) is not list or not turns:
            return None
        role_key, content_key, aliases = self._role_key, self._content_key, ALIASES
        heads = _SEP_HEADS_QUOTED if verbatim else _SEP_HEADS
        ascii_, any_ = encode_basestring_ascii, encode_basestring
        pieces: list[str] = []
        add = pieces.append
        roles: list[str] = []
        chars = 0
        for turn in turns:
            if type(turn) is not dict or len(turn) != 2:
                return None  # extra keys (reasoning, loss, tool_calls) need the general path
            raw, content = turn.get(role_key), turn.get(content_key)
            if type(raw) is not str or type(content) is not str or not content or content.isspace():
                return None
            role = aliases.get(raw)
            if role is None:
                return None
            roles.append(role)
            chars += len(content)
            add(heads[role])
            if verbatim:
                add(content)
            else:
                add(ascii_(content) if content.isascii() else any_(content))  # = encode.quote, inlined
        if self._system is not None and roles[0] != SYSTEM:
            roles.insert(0, SYSTEM)
            chars += len(self._system)
            # Its piece goes first, so it takes over the leading characters that are cut off.
            pieces[0] = f'"{self._system_piece}{pieces[0][1:]}' if verbatim else self._system_piece + pieces[0]
        try:
            check_roles(roles)
        except Reject:
            return None
        add('"}]}\n' if verbatim else "}]}\n")
        text = "".join(pieces)[4 if verbatim else 3 :]
        try:
            return f'{{"messages": [{text}'.encode(), len(roles), chars
        except UnicodeEncodeError:
            return None


# Each turn's piece starts by closing the previous turn; the first one's "}, " is cut off.
_SEP_HEADS = {role: "}, " + head for role, head in HEADS.items()}
# The same with the quotes of verbatim contents: the closing one of the previous turn's.
_SEP_HEADS_QUOTED = {role: '"}, ' + head + '"' for role, head in HEADS.items()}
