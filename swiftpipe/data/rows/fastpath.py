"""The output line for a row in the commonest shape, built without the general machinery.

Most rows of a ShareGPT or messages file are `{"conversations": [{"from", "value"}, ...]}` (or
`{"messages": [{"role", "content"}, ...]}`) with plain string turns. For those the general path
builds a dict per turn, a list of roles, and a row dict to encode; this walks the turns once
and joins the output line straight from strings.

It is only a shortcut, never a judge: it returns None for any row it is not sure of (an odd
key, an unknown spelling, a rule broken, a surrogate), and that row then takes the general
path, which accepts or rejects it with the exact reason. For every row it does accept, its
line is byte for byte what the general path writes (tests/data/rows/test_fastpath.py checks this).
"""

from __future__ import annotations

from operator import itemgetter
from typing import Any, NamedTuple, cast

from swiftpipe.data.reject import Reject
from swiftpipe.data.rows.encode import HEADS, quote
from swiftpipe.data.rows.roles import ALIASES, SYSTEM
from swiftpipe.data.rows.validate import check_roles

# format -> (the row's one key, the turn's role key, the turn's content key)
SHAPES = {"sharegpt": ("conversations", "from", "value"), "messages": ("messages", "role", "content")}


class FastPath:
    """`line(row)` -> (encoded line, number of turns, characters of content), or None."""

    def __init__(self, fmt: str, system: str | None) -> None:
        self._field, role_key, content_key = SHAPES[fmt]
        # C-level item getters: a list comprehension costs more per turn than the parse did.
        self._role, self._content = itemgetter(role_key), itemgetter(content_key)
        # The system turn `with_system` inserts into a row that has none of its own.
        self._system = system if system is not None and system.strip() else None
        # The row's roles as spelled -> the pieces of its line, or None when the general path
        # must judge it. A file has few such shapes, so the roles are checked once per shape.
        self._shapes: dict[tuple[str, ...], _Shape | None] = {}

    def line(self, row: dict[str, Any], raw: str) -> tuple[bytes, int, int] | None:
        """The row's output line, or None to send it down the general path; `raw` is the row's
        source text.

        When `raw` holds no backslash, none of the row's strings held an escape, so none holds
        a quote, a backslash or a control character (the parser rejects those unescaped), and
        each is written between quotes as it is: escaping costs nearly as much as parsing, and
        most rows of most files need none.
        """
        turns = row.get(self._field)
        if type(turns) is not list or not turns:
            return None
        try:
            # A turn that is not an object, or lacks a key, raises here; so does a content that
            # is not a string (str.isspace refuses it).
            contents = list(map(self._content, turns))
            key = tuple(map(self._role, turns))
            if max(map(len, turns)) != 2 or "" in contents or any(map(str.isspace, contents)):
                return None  # extra keys (reasoning, loss, tool_calls), empty turns: the general path
            shape = self._shapes.get(key, _UNSEEN)
        except (KeyError, TypeError):  # TypeError also for a role that cannot be a dict key
            return None
        if shape is _UNSEEN:
            shape = self._shape(key)
            if len(self._shapes) < _MAX_SHAPES:
                self._shapes[key] = shape
        if shape is None:
            return None
        # A row's objects account for all of its '{' unless a string holds one; only then is
        # the slower search for a {{placeholder}} (counted on the general path) needed.
        if raw.count("{") != len(turns) + 1 and "{{" in raw:
            return None
        if "\\" in raw:
            pieces = shape.escaped.copy()
            pieces[1::2] = [quote(c) for c in contents]
            chars = sum(map(len, contents))
        else:
            pieces = shape.verbatim.copy()
            pieces[1::2] = contents
            chars = -1
        text = "".join(pieces)
        if chars < 0:  # the contents are all of the line but its fixed pieces
            chars = len(text) - shape.fixed
        try:
            return text.encode(), shape.turns, shape.chars + chars
        except UnicodeEncodeError:
            return None

    def _shape(self, spelled: tuple[object, ...]) -> _Shape | None:
        """The line template for rows whose roles are `spelled`, or None if any is unknown or
        they break the turn order (the general path then rejects with the reason)."""
        roles = [ALIASES.get(r) if type(r) is str else None for r in spelled]
        if None in roles:
            return None
        known = cast(list[str], roles)
        pieces = [HEADS[role] for role in known]
        system = ""
        if self._system is not None and known[0] != SYSTEM:
            known.insert(0, SYSTEM)
            system = HEADS[SYSTEM] + quote(self._system) + "}, "
        try:
            check_roles(known)
        except Reject:
            return None
        escaped = ['{"messages": [' + system + pieces[0]]
        for head in pieces[1:]:
            escaped += ["", "}, " + head]
        escaped += ["", "}]}\n"]
        # The same with the quotes around each content: the verbatim contents go in unquoted.
        verbatim = [f'{escaped[0]}"', *['"' + piece + '"' if piece else "" for piece in escaped[1:-1]], '"}]}\n']
        added = len(self._system or "") if system else 0
        return _Shape(verbatim, escaped, len(known), added, sum(map(len, verbatim)))


class _Shape(NamedTuple):
    """A row shape's output line as pieces with an empty slot for each content (every second
    piece), for contents as they are or already quoted; its number of turns and the characters
    of the system turn it adds, and the length of the verbatim pieces."""

    verbatim: list[str]
    escaped: list[str]
    turns: int
    chars: int
    fixed: int


_UNSEEN = _Shape([], [], 0, 0, 0)
_MAX_SHAPES = 4096  # distinct role sequences remembered; more are worked out per row
