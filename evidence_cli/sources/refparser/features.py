"""The features the reference parser's CRF sees for each token (shared by training and parsing)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

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


_SEGMENTS = 6  # a reference's sentences counted up to 5


def _segments(tokens: Sequence[Token], years: Sequence[bool]) -> list[tuple[int, ...]]:
    """For each token, what its sentence of the reference looks like: (index of the sentence,
    sentences after it, its size in tokens, and flags: holds a number, holds a year, the next
    sentence holds a number, the one before held a year, holds a quote, the token begins the
    sentence). A sentence ends at
    ".", "?", "!" or ";" before a space, an initial's period too (the authors before a title
    often end with one; the title is then the last long sentence before the numbers). The CRF
    sees one token's neighbours only; these let it see that a title is a sentence without
    numbers before the one with the journal, volume and pages, instead of ending it inside
    ("KRAS / NRAS", #11)."""
    count = len(tokens)
    ends: list[int] = []
    for i, token in enumerate(tokens):
        text = token.text
        if text in ".?!;" and i + 1 < count and tokens[i + 1].start > token.end:
            ends.append(i)
    if not ends or ends[-1] != count - 1:
        ends.append(count - 1)
    spans: list[tuple[int, int]] = []
    start = 0
    for end in ends:
        spans.append((start, end + 1))
        start = end + 1
    facts = []
    for start, stop in spans:
        digits = any(t.text.isdecimal() for t in tokens[start:stop])
        year = any(years[start:stop])
        quote = any(t.text in _QUOTES_OPEN or t.text in _QUOTES_CLOSE
                    for t in tokens[start:stop])
        facts.append((digits, year, quote))
    out: list[tuple[int, ...]] = []
    total = len(spans)
    for index, (start, stop) in enumerate(spans):
        digits, year, quote = facts[index]
        next_digits = index + 1 < total and facts[index + 1][0]
        previous_year = index > 0 and facts[index - 1][1]
        flags = (int(digits), int(year), int(next_digits), int(previous_year), int(quote))
        row = (min(index, _SEGMENTS - 1), min(total - 1 - index, _SEGMENTS - 1),
               min(stop - start, 21), *flags)
        # The first token of a sentence is where a field begins (a journal after the title).
        out.append((*row, 1))
        out.extend([(*row, 0)] * (stop - start - 1))
    return out


def _bucket(left: int) -> int:
    """Tokens to the end of the reference, in coarse steps."""
    return next((b for b in (1, 2, 3, 4, 6, 10, 20) if left <= b), 99)


S = TypeVar("S", str, bytes)


@dataclass(slots=True)
class _Word(Generic[S]):
    """What featurize needs of one token text, computed once per distinct text: its own
    features, what it shows a neighbour at each offset, and its lowercase head for the pairs."""

    # Tuples, not lists: a tuple of strings is left alone by the cyclic collector, and a cache
    # of lists made every collection walk them all (a tenth of the parse, #12).
    own: tuple[S, ...]
    shown: tuple[tuple[S, ...], ...]  # as token i+2, i+1, i-1, i-2 sees it
    head: S  # lower()[:12]
    year: bool


class _Vocabulary(Generic[S]):
    """The strings the features are put together from, made once: as str (what featurize
    returns, and training uses), or as the UTF-8 bytes crfsuite would make of them, without
    those the model has no weight for (what the tagger is given). Formatting the same strings
    again for every token was most of the parse of a reference section (#12)."""

    def __init__(self, lexicon: Lexicon, encode: Callable[[str], S],
                 known: frozenset[bytes] | None) -> None:
        self.lexicon = lexicon
        self.encode: Callable[[str], S] = encode
        self.known = known  # None: keep every feature
        self.words: dict[str, _Word[S]] = {}
        self.older: dict[str, _Word[S]] = {}
        constants = {
            "pos": [f"pos={k}" for k in range(10)],
            "depth": [f"depth={k}" for k in range(3)],
            "years": [f"years_before={k}" for k in range(3)],
            "periods": [f"periods_before={k}" for k in range(7)],
            "commas": [f"commas_before={k}" for k in range(9)],
            "quotes": [f"quotes_closed={k}" for k in range(3)],
            "to_end": [f"to_end={_bucket(left)}" for left in range(22)],  # 21 and over: 99
            "segment": [f"seg={k}" for k in range(_SEGMENTS)],
            "segment_left": [f"seg_left={k}" for k in range(_SEGMENTS)],
            "segment_size": [f"seg_size={_bucket(size)}" for size in range(22)],
            "segment_flags": ["seg_digits", "seg_year", "next_seg_digits", "prev_seg_year",
                              "seg_quote", "seg_start"],
        }
        self.tables: dict[str, tuple[S, ...]] = {
            name: tuple(map(encode, values)) for name, values in constants.items()}
        self.offsets: tuple[S, ...] = tuple(encode(f"{offset}:") for offset in _OFFSETS)
        none = [encode(f"{offset}:none") for offset in _OFFSETS]
        self.none: tuple[tuple[S, ...], ...] = tuple(
            (f,) if known is None or f in known else () for f in none)
        self.first: S = encode("first")
        self.last: S = encode("last")
        self.glued_left: S = encode("glued_left")
        self.glued_right: S = encode("glued_right")
        self.in_quote: S = encode("in_quote")
        self.left: S = encode("w-1|w=")
        self.right: S = encode("w|w+1=")
        self.bar: S = encode("|")
        self.nul: S = encode("\0")

    def word(self, text: str) -> _Word[S]:
        """The features of one token text, made again only when it was not seen lately."""
        found = self.words.get(text)
        if found is None:
            found = self.older.pop(text, None)
            if found is None:
                found = self._word(text)
            if len(self.words) >= _MAX_WORDS // 2:
                # Two generations, so that the words seen often stay: a word seen in neither
                # the current one nor the one before is made again.
                self.older = self.words
                self.words = {}
            self.words[text] = found
        return found

    def _word(self, text: str) -> _Word[S]:
        own = _own(text, self.lexicon)
        encode = self.encode
        encoded = [encode(f) for f in own]
        shown = [e for f, e in zip(own, encoded, strict=True)
                 if f.startswith(_SHOWN_PREFIXES) or f in _SHOWN]
        # Seen from token i, token i-2 shows itself as "-2:..." and so on.
        m2, m1, p1, p2 = ([prefix + f for f in shown] for prefix in self.offsets)
        known = self.known
        # crfsuite reads an attribute up to its first NUL: a token with one keeps every
        # feature, as before (crfsuite then looks up what it reads).
        if known is not None and "\0" not in text:
            encoded = [f for f in encoded if f in known]
            m2, m1, p1, p2 = ([f for f in seen if f in known] for seen in (m2, m1, p1, p2))
        return _Word(tuple(encoded), (tuple(m2), tuple(m1), tuple(p1), tuple(p2)),
                     encode(text.lower()[:12]), "year" in own)

    def pairs(self, heads: list[S], prefix: S) -> list[S | None]:
        """prefix + "a|b" for each pair of neighbours; None where the model does not know it."""
        joined = [prefix + heads[i] + self.bar + heads[i + 1] for i in range(len(heads) - 1)]
        known = self.known
        if known is None:
            return list(joined)
        return [p if p in known or self.nul in p else None for p in joined]


# Words of references repeat (initials, punctuation, years, journal words); a vocabulary holds at
# most _MAX_WORDS of them, so that a long-running process stays bounded.
_MAX_WORDS = 10_000  # about 15 MB at most (a word holds ~25 short strings)
# One vocabulary per lexicon and kind, the lexicon held so that its id is not reused meanwhile.
_vocabularies: dict[tuple[int, bool], _Vocabulary[Any]] = {}


def _vocabulary_of_str(lexicon: Lexicon) -> _Vocabulary[str]:
    found = _vocabularies.get((id(lexicon), False))
    if found is None or found.lexicon is not lexicon:
        if len(_vocabularies) > 4:
            _vocabularies.clear()
        found = _vocabularies[id(lexicon), False] = _Vocabulary(lexicon, str, None)
    return found


def _vocabulary_of_bytes(lexicon: Lexicon, known: frozenset[bytes] | None) -> _Vocabulary[bytes]:
    found = _vocabularies.get((id(lexicon), True))
    if found is None or found.lexicon is not lexicon or found.known is not known:
        if len(_vocabularies) > 4:
            _vocabularies.clear()
        found = _vocabularies[id(lexicon), True] = _Vocabulary(lexicon, str.encode, known)
    return found


def featurize(text: str, tokens: Sequence[Token], lexicon: Lexicon) -> list[list[str]]:
    """One list of string features per token: its own, its neighbours' (±2) and its place in the
    reference (relative position, brackets and quotes open, a year or a period already seen).

    The strings and their order are those the model was trained on:
    tests/test_refparser_features.py checks them against the plain per-token formulation that
    this replaced."""
    return _featurize(tokens, _vocabulary_of_str(lexicon))


def model_features(tokens: Sequence[Token], lexicon: Lexicon,
                   known: frozenset[bytes] | None) -> list[list[bytes]]:
    """featurize's features as crfsuite's tagger reads them: UTF-8 encoded, in the same order,
    without those not in `known` (the model's attributes; crfsuite drops an attribute it has no
    weight for, so the tags and probabilities are the same)."""
    return _featurize(tokens, _vocabulary_of_bytes(lexicon, known))


def _featurize(tokens: Sequence[Token], vocabulary: _Vocabulary[S]) -> list[list[S]]:
    words: list[_Word[S]] = [vocabulary.word(token.text) for token in tokens]
    count = len(tokens)
    starts = [t.start for t in tokens]
    ends = [t.end for t in tokens]
    heads = [w.head for w in words]
    lefts = vocabulary.pairs(heads, vocabulary.left)  # token i+1's "w-1|w"
    rights = vocabulary.pairs(heads, vocabulary.right)  # token i's "w|w+1"
    tables = vocabulary.tables
    pos, depths, year_counts, period_counts, comma_counts, quote_counts, to_end = (
        tables["pos"], tables["depth"], tables["years"], tables["periods"], tables["commas"],
        tables["quotes"], tables["to_end"])
    none_m2, none_m1, none_p1, none_p2 = vocabulary.none
    segment, segment_left, segment_size, segment_flags = (
        tables["segment"], tables["segment_left"], tables["segment_size"],
        tables["segment_flags"])
    segments = _segments(tokens, [w.year for w in words])
    out: list[list[S]] = []
    depth = 0
    quoted = False
    years = 0
    periods = 0
    commas = 0
    closed_quotes = 0
    for i, token in enumerate(tokens):
        features = list(words[i].own)
        features.append(pos[10 * i // count])
        if i == 0:
            features.append(vocabulary.first)
        if i == count - 1:
            features.append(vocabulary.last)
        glued_right = i + 1 < count and starts[i + 1] == ends[i]
        if i > 0 and starts[i] == ends[i - 1]:
            features.append(vocabulary.glued_left)
        if glued_right:
            features.append(vocabulary.glued_right)
        features.append(depths[depth if depth < 2 else 2])
        if quoted:
            features.append(vocabulary.in_quote)
        features.append(year_counts[years if years < 2 else 2])
        features.append(period_counts[periods if periods < 6 else 6])
        features.append(comma_counts[commas if commas < 8 else 8])
        features.append(quote_counts[closed_quotes if closed_quotes < 2 else 2])
        left = count - i
        features.append(to_end[left if left < 21 else 21])
        features += words[i - 2].shown[0] if i >= 2 else none_m2
        features += words[i - 1].shown[1] if i >= 1 else none_m1
        features += words[i + 1].shown[2] if i + 1 < count else none_p1
        features += words[i + 2].shown[3] if i + 2 < count else none_p2
        if i > 0 and (pair := lefts[i - 1]) is not None:
            features.append(pair)
        if i + 1 < count and (pair := rights[i]) is not None:
            features.append(pair)
        index, left_segments, size, *flags = segments[i]
        features.append(segment[index])
        features.append(segment_left[left_segments])
        features.append(segment_size[size])
        features.extend(flag for flag, on in zip(segment_flags, flags, strict=True) if on)
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
