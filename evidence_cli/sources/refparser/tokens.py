"""Split a reference into the tokens the parser labels, each with its character offsets."""

from __future__ import annotations

import re
from collections.abc import Callable
from itertools import accumulate, repeat
from typing import NamedTuple, cast

from evidence_cli import doi as doi_rules

# A link or a DOI is one token: its label is decided once, and its inner punctuation must not
# look like the reference's own.
_ATOMIC = re.compile(
    r"https?://[^\s<>\"\]\[{}|\\^`]+|\bwww\.[^\s<>\"\]\[{}|\\^`]+"
    r"|\b10\.\d{1,9}(?:/|%2F)(?:[^\s\"'<>{}\[\]|\\^`]|<[^\s\"'<>]*>)+",
    re.I,
)
# Letters and digits run together ("2011a", "e33693", "Hamlin"); every other visible character
# is a token of its own, so "47(3):12-15" gives 47 ( 3 ) : 12 - 15. A year run into the next
# word ("2021Tradução", as one ABNT style prints it) is the year and the word.
_PIECE = re.compile(r"\d{4}(?=[A-Z][a-z])|[^\W_]+|\S")


class Token(NamedTuple):
    """One token: its text and where it sits in the parsed string (text == source[start:end]).
    A named tuple: made for every token of every reference, and a frozen dataclass took twice
    as long to make (#12)."""

    text: str
    start: int
    end: int


def tokenize(text: str) -> list[Token]:
    """The tokens of `text`, in order; links and DOIs (without trailing punctuation) are one."""
    tokens: list[Token] = []
    position = 0
    lower = text.lower()
    # A link or a DOI starts "http", "www." or "10." (no other code point stands for h, t, p or
    # w under IGNORECASE): the scan for one starts at the first of them, or is saved (#12).
    starts = [at for at in (text.find("10."), lower.find("http"), lower.find("www.")) if at >= 0]
    first = min(starts) if len(lower) == len(text) and starts else 0 if starts else -1
    for match in _ATOMIC.finditer(text, first) if first >= 0 else ():
        value = doi_rules.strip_trailing_punctuation(match.group(0))
        if not value:
            continue
        _pieces(text, position, match.start(), tokens)
        tokens.append(Token(value, match.start(), match.start() + len(value)))
        position = match.start() + len(value)
    _pieces(text, position, len(text), tokens)
    return tokens


# Token's own constructor, without the keyword handling of a named tuple's __new__: tokenizing
# made a Token for every piece of every reference, and the constructor was half of it (#12).
_make = cast(Callable[[type[Token], tuple[str, int, int]], Token], tuple.__new__)


# _PIECE as a separator kept by split: the pieces and the gaps between them, in C (#12).
_SPLIT = re.compile(f"({_PIECE.pattern})")


def _pieces(text: str, start: int, end: int, out: list[Token]) -> None:
    # The pieces of text[start:end] (the gaps between them are spaces) and their offsets, the
    # sums of the lengths before them: no match object, nor a method call, per piece (#12).
    # Cut, the text ends at `end` for _PIECE's look-ahead as it does with an end position.
    parts = _SPLIT.split(text[start:end] if start or end < len(text) else text)
    bounds = list(accumulate(map(len, parts), initial=start))
    out += map(_make, repeat(Token), zip(parts[1::2], bounds[1:-1:2], bounds[2::2],
                                         strict=True))
