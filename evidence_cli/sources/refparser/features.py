"""The features the reference parser's CRF sees for each token (shared by training and parsing)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from evidence_cli.sources.refparser.tokens import Token

Lexicon = Mapping[str, Sequence[str]]

MONTHS = frozenset(str.split(
    "jan feb mar apr may jun jul aug sep sept oct nov dec january february march april june july "
    "august september october november december spring summer autumn fall winter janvier fevrier "
    "février mars avril mai juin juillet août aout septembre octobre novembre décembre decembre "
    "januar februar märz juni juli oktober dezember enero febrero marzo abril mayo junio julio "
    "agosto septiembre octubre noviembre diciembre"
))
_QUOTES_OPEN = frozenset("“‘«„\"'")
_QUOTES_CLOSE = frozenset("”’»\"'")
_DASHES = frozenset("-–—‐‑−")


def _shape(text: str) -> str:
    out: list[str] = []
    for char in text:
        kind = "X" if char.isupper() else "x" if char.isalpha() else "d" if char.isdigit() else char
        if kind != "d" and out and out[-1] == kind:
            continue  # runs of letters collapse; digits keep their count ("dddd" is a year)
        out.append(kind)
    return "".join(out[:8])


def _own(text: str, lexicon: Lexicon) -> list[str]:
    """Features of a token on its own, before context is added."""
    lower = text.lower()
    features = [f"w={lower[:24]}", f"shape={_shape(text)}"]
    if len(text) > 25 or "/" in text:
        if lower.startswith(("http", "www.")):
            return ["url", f"shape={_shape(text[:6])}"]
        if re.match(r"10\.\d", lower):
            return ["doi"]
    if text.isdecimal() and text.isascii():  # "²" and "¹" are digits int() refuses
        value = int(text) if len(text) < 10 else 10**10
        features.append(f"digits={min(len(text), 6)}")
        if len(text) == 4 and 1500 <= value <= 2039:
            features.append("year")
    elif text.isalpha():
        if text[0].isupper():
            features.append("cap")
            if len(text) == 1:
                features.append("initial")
            elif text.isupper() and len(text) <= 4:
                features.append("initials")
        elif text.islower():
            features.append("lower")
        if lower in MONTHS:
            features.append("month")
    elif len(text) == 1:
        features.append("punct")
        if text in _DASHES:
            features.append("dash")
        if text in _QUOTES_OPEN or text in _QUOTES_CLOSE:
            features.append("quote")
    else:
        features.append("mixed")
        if re.fullmatch(r"\d{4}[a-z]", text):
            features.append("year")
    features.append(f"len={min(len(text), 8)}")
    # What the word was in the training data: "lex=container" when it was a journal's word in
    # at least a quarter of its uses, "top=container" when in most of them.
    features.extend(lexicon.get(lower, ()))
    return features


_SHOWN_PREFIXES = ("w=", "shape=", "lex=", "top=")
_SHOWN = frozenset({"year", "initial", "initials", "month", "cap", "dash", "quote"})
_OFFSETS = (-2, -1, 1, 2)


def _bucket(left: int) -> int:
    """Tokens to the end of the reference, in coarse steps."""
    return next((b for b in (1, 2, 3, 4, 6, 10, 20) if left <= b), 99)


# The context features as strings made once: each token needs a dozen of them, and formatting
# them per token was a third of the parse (#12).
_POS = tuple(f"pos={k}" for k in range(10))
_DEPTH = tuple(f"depth={k}" for k in range(3))
_YEARS = tuple(f"years_before={k}" for k in range(3))
_PERIODS = tuple(f"periods_before={k}" for k in range(7))
_COMMAS = tuple(f"commas_before={k}" for k in range(9))
_QUOTES = tuple(f"quotes_closed={k}" for k in range(3))
_TO_END = tuple(f"to_end={_bucket(left)}" for left in range(22))  # 21 and over: 99
_NONE = tuple([f"{offset}:none"] for offset in _OFFSETS)  # no neighbour at -2, -1, +1, +2


@dataclass(frozen=True, slots=True)
class _Word:
    """What featurize needs of one token text, computed once per distinct text: its own
    features, what it shows a neighbour at each offset, and its lowercase head for the pairs."""

    own: list[str]
    shown: tuple[list[str], list[str], list[str], list[str]]  # as token -2, -1, +1, +2 sees it
    head: str  # lower()[:12]
    year: bool


def _word(text: str, lexicon: Lexicon) -> _Word:
    own = _own(text, lexicon)
    shown = [f for f in own if f.startswith(_SHOWN_PREFIXES) or f in _SHOWN]
    # Seen from token i, token i-2 shows itself as "-2:..." and so on.
    m2, m1, p1, p2 = ([f"{offset}:{f}" for f in shown] for offset in _OFFSETS)
    return _Word(own, (m2, m1, p1, p2), text.lower()[:12], "year" in own)


# Token text -> _Word, for one lexicon at a time (the shipped model's; training builds its own).
# The words of references repeat (initials, punctuation, years, journal words); the cache is
# emptied when it grows past _MAX_WORDS so that a long-running process stays bounded.
_MAX_WORDS = 8_000  # about 13 MB at most (a word holds ~25 short strings)
_words: dict[str, _Word] = {}
_words_lexicon: list[Lexicon] = []


def _words_for(lexicon: Lexicon) -> dict[str, _Word]:
    if not _words_lexicon or _words_lexicon[0] is not lexicon:
        _words.clear()
        _words_lexicon[:] = [lexicon]  # held, so that its id is never reused while cached
    elif len(_words) > _MAX_WORDS:
        _words.clear()
    return _words


def featurize(text: str, tokens: Sequence[Token], lexicon: Lexicon) -> list[list[str]]:
    """One list of string features per token: its own, its neighbours' (±2) and its place in the
    reference (relative position, brackets and quotes open, a year or a period already seen).

    The strings and their order are those the model was trained on: tests/test_refparser.py
    checks them against the plain per-token formulation this replaced."""
    cache = _words_for(lexicon)
    words: list[_Word] = []
    for token in tokens:
        word = cache.get(token.text)
        if word is None:
            word = cache[token.text] = _word(token.text, lexicon)
        words.append(word)
    count = len(tokens)
    starts = [t.start for t in tokens]
    ends = [t.end for t in tokens]
    # "a|b" of each pair of neighbours: token i's "w|w+1" and token i+1's "w-1|w".
    pairs = [f"{words[i].head}|{words[i + 1].head}" for i in range(count - 1)]
    out: list[list[str]] = []
    depth = 0
    quoted = False
    years = 0
    periods = 0
    commas = 0
    closed_quotes = 0
    for i, token in enumerate(tokens):
        features = words[i].own + [_POS[10 * i // count]]
        if i == 0:
            features.append("first")
        if i == count - 1:
            features.append("last")
        glued_right = i + 1 < count and starts[i + 1] == ends[i]
        if i > 0 and starts[i] == ends[i - 1]:
            features.append("glued_left")
        if glued_right:
            features.append("glued_right")
        features.append(_DEPTH[depth if depth < 2 else 2])
        if quoted:
            features.append("in_quote")
        features.append(_YEARS[years if years < 2 else 2])
        features.append(_PERIODS[periods if periods < 6 else 6])
        features.append(_COMMAS[commas if commas < 8 else 8])
        features.append(_QUOTES[closed_quotes if closed_quotes < 2 else 2])
        left = count - i
        features.append(_TO_END[left if left < 21 else 21])
        features += words[i - 2].shown[0] if i >= 2 else _NONE[0]
        features += words[i - 1].shown[1] if i >= 1 else _NONE[1]
        features += words[i + 1].shown[2] if i + 1 < count else _NONE[2]
        features += words[i + 2].shown[3] if i + 2 < count else _NONE[3]
        if i > 0:
            features.append("w-1|w=" + pairs[i - 1])
        if i + 1 < count:
            features.append("w|w+1=" + pairs[i])
        out.append(features)
        # State after this token, for the next ones.
        char = token.text
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth = max(0, depth - 1)
        elif char in _QUOTES_OPEN and not quoted and glued_right:
            quoted = True
        elif char in _QUOTES_CLOSE and quoted:
            quoted = False
            closed_quotes += 1
        elif char == ",":
            commas += 1
        if words[i].year:
            years += 1
        if char in ".?!" and i + 1 < count and starts[i + 1] > ends[i]:
            previous = tokens[i - 1].text if i else ""
            if len(previous) > 1 or previous.isdigit():  # not an initial's period
                periods += 1
    return out
