"""The features the reference parser's CRF sees for each token (shared by training and parsing)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

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


def _own(token: Token, lexicon: Lexicon) -> list[str]:
    """Features of a token on its own, before context is added."""
    text = token.text
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


def _bucket(left: int) -> int:
    """Tokens to the end of the reference, in coarse steps."""
    return next((b for b in (1, 2, 3, 4, 6, 10, 20) if left <= b), 99)


def featurize(text: str, tokens: Sequence[Token], lexicon: Lexicon) -> list[list[str]]:
    """One list of string features per token: its own, its neighbours' (±2) and its place in the
    reference (relative position, brackets and quotes open, a year or a period already seen)."""
    own = [_own(t, lexicon) for t in tokens]
    # What each token shows its neighbours, chosen once per token rather than once per
    # neighbour: the parse of a reference section was bound by this loop (#12).
    shown = [[f for f in features if f.startswith(_SHOWN_PREFIXES) or f in _SHOWN]
             for features in own]
    count = len(tokens)
    out: list[list[str]] = []
    depth = 0
    quoted = False
    years = 0
    periods = 0
    commas = 0
    closed_quotes = 0
    for i, token in enumerate(tokens):
        features = list(own[i])
        features.append(f"pos={10 * i // max(count, 1)}")
        if i == 0:
            features.append("first")
        if i == count - 1:
            features.append("last")
        if i > 0 and token.start == tokens[i - 1].end:
            features.append("glued_left")
        if i + 1 < count and tokens[i + 1].start == token.end:
            features.append("glued_right")
        features.append(f"depth={min(depth, 2)}")
        if quoted:
            features.append("in_quote")
        features.append(f"years_before={min(years, 2)}")
        features.append(f"periods_before={min(periods, 6)}")
        features.append(f"commas_before={min(commas, 8)}")
        features.append(f"quotes_closed={min(closed_quotes, 2)}")
        features.append(f"to_end={_bucket(count - i)}")
        for offset in (-2, -1, 1, 2):
            j = i + offset
            if 0 <= j < count:
                features.extend([f"{offset}:{feature}" for feature in shown[j]])
            else:
                features.append(f"{offset}:none")
        if i > 0:
            features.append(f"w-1|w={tokens[i - 1].text.lower()[:12]}|{token.text.lower()[:12]}")
        if i + 1 < count:
            features.append(f"w|w+1={token.text.lower()[:12]}|{tokens[i + 1].text.lower()[:12]}")
        out.append(features)
        # State after this token, for the next ones.
        char = token.text
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth = max(0, depth - 1)
        elif char in _QUOTES_OPEN and not quoted and (i + 1 < count and
                                                      tokens[i + 1].start == token.end):
            quoted = True
        elif char in _QUOTES_CLOSE and quoted:
            quoted = False
            closed_quotes += 1
        elif char == ",":
            commas += 1
        if "year" in own[i]:
            years += 1
        if char in ".?!" and i + 1 < count and tokens[i + 1].start > token.end:
            previous = tokens[i - 1].text if i else ""
            if len(previous) > 1 or previous.isdigit():  # not an initial's period
                periods += 1
    return out
