"""The features the reference parser's CRF sees for each token (shared by training and parsing)."""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import compress, pairwise
from operator import attrgetter, eq
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
# The single characters that change the state the context features tell (brackets, quotes,
# commas, sentence ends): for every other token the state stays as it was.
_STATEFUL = frozenset("([{)]},.?!") | _QUOTES_OPEN | _QUOTES_CLOSE


# An ASCII text's shape by a translation and one substitution, not a loop over its characters
# (the same string: A-Z are the ASCII upper case letters, a-z the other letters, 0-9 the digits).
_ASCII_KINDS = str.maketrans({**{chr(c): "X" for c in range(65, 91)},
                              **{chr(c): "x" for c in range(97, 123)},
                              **{chr(c): "d" for c in range(48, 58)}})
_RUN = re.compile(r"(?<=([^d]))\1+")  # the repeats after a character (no template to expand)


def _shape(text: str) -> str:
    if text.isascii():
        return _RUN.sub("", text.translate(_ASCII_KINDS))[:8]
    out: list[str] = []
    for char in text:
        kind = "X" if char.isupper() else "x" if char.isalpha() else "d" if char.isdigit() else char
        if kind != "d" and out and out[-1] == kind:
            continue  # runs of letters collapse; digits keep their count ("dddd" is a year)
        out.append(kind)
    return "".join(out[:8])


def own_features(text: str, lexicon: Lexicon) -> list[str]:
    """Features of a token on its own, before context is added."""
    lower = text.lower()
    if len(text) > 25 or "/" in text:
        if lower.startswith(("http", "www.")):
            return ["url", f"shape={_shape(text[:6])}"]
        if re.match(r"10\.\d", lower):
            return ["doi"]
    features = [f"w={lower[:24]}", f"shape={_shape(text)}"]
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
OFFSETS = _OFFSETS = (-2, -1, 1, 2)


def shown_features(own: list[str]) -> list[str]:
    """The features of a token its neighbours see (prefixed with their offset: "-1:w=...")."""
    return [f for f in own if f.startswith(_SHOWN_PREFIXES) or f in _SHOWN]


_SEGMENTS = 6  # a reference's sentences counted up to 5


def _segments(starts: Sequence[int], ends: Sequence[int], words: Sequence[_Word[Any]]
              ) -> list[tuple[int, tuple[int, ...]]]:
    """What each sentence of the reference looks like, as runs (its first token, its eight
    slots: index of the sentence, sentences after it, its size in tokens, and flags: holds a
    number, holds a year, the next sentence holds a number, the one before held a year, holds
    a quote). A sentence ends at ".", "?", "!" or ";" before a space, an initial's period too
    (the authors before a title often end with one; the title is then the last long sentence
    before the numbers). The CRF sees one token's neighbours only; these let it see that a
    title is a sentence without numbers before the one with the journal, volume and pages,
    instead of ending it inside ("KRAS / NRAS", #11). The tokens as their starts, ends and
    words (the flags of their texts)."""
    count = len(words)
    if not count:
        return []
    stops = [i for i in compress(range(count - 1), map(_STOP_OF, words))
             if starts[i + 1] > ends[i]]
    stops.append(count - 1)  # the last token ends the last sentence (never in `stops` yet)
    spans: list[tuple[int, int]] = []
    start = 0
    for end in stops:
        spans.append((start, end + 1))
        start = end + 1
    decimal = list(map(_DECIMAL_OF, words))
    years = list(map(_YEAR_OF, words))
    quotes = list(map(_QUOTE_OF, words))
    facts = [(True in decimal[start:stop], True in years[start:stop], True in quotes[start:stop])
             for start, stop in spans]
    none = NO_FEATURE
    total = len(spans)
    runs: list[tuple[int, tuple[int, ...]]] = []
    has_digits, has_year, next_digits, previous_year, has_quote = _SEGMENT_FLAGS
    for index, (start, stop) in enumerate(spans):
        digits, year, quote = facts[index]
        runs.append((start, (
            _SEGMENT[min(index, _SEGMENTS - 1)], _SEGMENT_LEFT[min(total - 1 - index,
                                                                   _SEGMENTS - 1)],
            _SEGMENT_SIZE[min(stop - start, 21)],
            has_digits if digits else none, has_year if year else none,
            next_digits if index + 1 < total and facts[index + 1][0] else none,
            previous_year if index > 0 and facts[index - 1][1] else none,
            has_quote if quote else none)))
    return runs


def _bucket(left: int) -> int:
    """Tokens to the end of the reference, in coarse steps."""
    return next((b for b in (1, 2, 3, 4, 6, 10, 20) if left <= b), 99)


# Every feature a token's place in the reference gives it, in one table: _context gives each
# token CONTEXT_WIDTH indexes into it (NO_FEATURE where a slot gives none), which featurize turns
# into strings and the tagger into rows of weights (crf.py) — one formulation for both (#12).
_TO_END = tuple(f"to_end={_bucket(left)}" for left in range(22))  # 21 and over: 99
CONTEXT: tuple[str, ...] = (
    *(f"pos={k}" for k in range(10)), "first", "last", "glued_left", "glued_right",
    *(f"depth={k}" for k in range(3)), "in_quote", *(f"years_before={k}" for k in range(3)),
    *(f"periods_before={k}" for k in range(7)), *(f"commas_before={k}" for k in range(9)),
    *(f"quotes_closed={k}" for k in range(3)), *dict.fromkeys(_TO_END),
    *(f"seg={k}" for k in range(_SEGMENTS)), *(f"seg_left={k}" for k in range(_SEGMENTS)),
    *dict.fromkeys(f"seg_size={_bucket(size)}" for size in range(22)),
    "seg_digits", "seg_year", "next_seg_digits", "prev_seg_year", "seg_quote", "seg_start",
)
NO_FEATURE = len(CONTEXT)
CONTEXT_WIDTH = 21
_AT = {name: k for k, name in enumerate(CONTEXT)}
_POS = tuple(_AT[f"pos={k}"] for k in range(10))
_FIRST, _LAST, _GLUED_LEFT, _GLUED_RIGHT, _IN_QUOTE = (
    _AT[name] for name in ("first", "last", "glued_left", "glued_right", "in_quote"))
_DEPTH = tuple(_AT[f"depth={k}"] for k in range(3))
_YEARS = tuple(_AT[f"years_before={k}"] for k in range(3))
_PERIODS = tuple(_AT[f"periods_before={k}"] for k in range(7))
_COMMAS = tuple(_AT[f"commas_before={k}"] for k in range(9))
_QUOTES = tuple(_AT[f"quotes_closed={k}"] for k in range(3))
_TO_END_AT = tuple(_AT[name] for name in _TO_END)
_SEGMENT = tuple(_AT[f"seg={k}"] for k in range(_SEGMENTS))
_SEGMENT_LEFT = tuple(_AT[f"seg_left={k}"] for k in range(_SEGMENTS))
_SEGMENT_SIZE = tuple(_AT[f"seg_size={_bucket(size)}"] for size in range(22))
_SEGMENT_FLAGS = tuple(_AT[name] for name in (
    "seg_digits", "seg_year", "next_seg_digits", "prev_seg_year", "seg_quote"))
_SEGMENT_START = _AT["seg_start"]
NEIGHBOUR_NONE: tuple[str, ...] = tuple(f"{offset}:none" for offset in _OFFSETS)


S = TypeVar("S", str, int)


@dataclass(slots=True)
class _Word(Generic[S]):
    """What featurize needs of one token text, computed once per distinct text: its own
    features, what it shows a neighbour at each offset, and its lowercase head for the pairs;
    the features as strings, or as the model's attribute ids (crf.py)."""

    # Tuples, not lists: a tuple of strings is left alone by the cyclic collector, and a cache
    # of lists made every collection walk them all (a tenth of the parse, #12).
    own: tuple[S, ...]
    shown: tuple[tuple[S, ...], ...]  # as token i+2, i+1, i-1, i-2 sees it
    head: str  # lower()[:12]
    year: bool
    # What the context slots ask of the text, answered once per word rather than once per
    # token (#12): it changes the state (_STATEFUL or a year), may end a sentence, is digits,
    # is a quote, starts with a letter or digit (a word, to the field reading).
    stateful: bool
    stop: bool
    decimal: bool
    quote: bool
    wordlike: bool
    # own and shown one after another, and their sizes: the tagger sums a word's rows from them
    # (crf.py), one list extended with each word rather than five (#12).
    flat: tuple[S, ...]
    sizes: tuple[int, ...]


def make_word(own: tuple[S, ...], shown: tuple[tuple[S, ...], ...], text: str,
              year: bool) -> _Word[S]:
    """A word of `text`, its flags computed here."""
    return _Word(own, shown, text.lower()[:12], year, year or text in _STATEFUL,
                 text in ".?!;", text.isdecimal(), text in _QUOTES_OPEN or text in _QUOTES_CLOSE,
                 text[:1].isalnum(), own + sum(shown, ()),
                 (len(own), *map(len, shown)))


_HEAD_OF = attrgetter("head")
_YEAR_OF = attrgetter("year")
_STATEFUL_OF = attrgetter("stateful")
_STOP_OF = attrgetter("stop")
_DECIMAL_OF = attrgetter("decimal")
_QUOTE_OF = attrgetter("quote")


K = TypeVar("K", bound=Hashable)
W = TypeVar("W")


class WordCache(Generic[K, W]):
    """A bounded map of token text (or another key) to what is made of it once (its features,
    or their weights): words of references repeat (initials, punctuation, years, journal
    words), and formatting the same strings again for every token was most of the parse of a
    reference section (#12)."""

    def __init__(self, make: Callable[[K], W]) -> None:
        self.make = make
        self.words: dict[K, W] = {}
        self.older: dict[K, W] = {}

    def get(self, key: K) -> W:
        """What is made of one key, made again only when it was not seen lately."""
        found = self.words.get(key)
        if found is None:
            found = self.older.pop(key, None)
            if found is None:
                found = self.make(key)
            if len(self.words) >= _MAX_WORDS // 2:
                # Two generations, so that the words seen often stay: a word seen in neither
                # the current one nor the one before is made again.
                self.older = self.words
                self.words = {}
            self.words[key] = found
        return found


class _Vocabulary:
    """The features of the token texts seen lately, for one lexicon."""

    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        self.cache: WordCache[str, _Word[str]] = WordCache(self.make)

    def word(self, text: str) -> _Word[str]:
        return self.cache.get(text)

    def make(self, text: str) -> _Word[str]:
        """The features of one token text, made anew."""
        own = own_features(text, self.lexicon)
        shown = shown_features(own)
        # Seen from token i, token i-2 shows itself as "-2:..." and so on.
        m2, m1, p1, p2 = (tuple([f"{offset}:{f}" for f in shown]) for offset in _OFFSETS)
        return make_word(tuple(own), (m2, m1, p1, p2), text, "year" in own)


# Words of references repeat (initials, punctuation, years, journal words); a cache holds at
# most _MAX_WORDS of them, so that a long-running process stays bounded.
_MAX_WORDS = 10_000  # about 15 MB at most (a word holds ~25 short strings)
# One vocabulary per lexicon, the lexicon held so that its id is not reused meanwhile.
_vocabularies: dict[int, _Vocabulary] = {}


def vocabulary(lexicon: Lexicon) -> _Vocabulary:
    """The vocabulary of one lexicon (the shipped model's, or the one training builds)."""
    found = _vocabularies.get(id(lexicon))
    if found is None or found.lexicon is not lexicon:
        if len(_vocabularies) > 4:
            _vocabularies.clear()
        found = _vocabularies[id(lexicon)] = _Vocabulary(lexicon)
    return found


@dataclass(slots=True)
class Context:
    """A sequence's context slots (indexes into CONTEXT, NO_FEATURE where a slot gives none),
    as they are made: the slots its length decides (position, first, last, tokens to the end:
    `positions(count)`), glued left and right per token, and the state slots (depth, in a
    quote, years, periods, commas and quotes before) as runs, (first token, six slots) each:
    the state changes at a few tokens only (#12); the sentence slots as runs too, one a
    sentence (_segments), and the first token of each sentence (#11)."""

    count: int
    glued_left: list[int]
    glued_right: list[int]
    states: list[tuple[int, tuple[int, ...]]]
    segments: list[tuple[int, tuple[int, ...]]]
    segment_starts: list[int]

    def columns(self) -> list[Sequence[int]]:
        """The CONTEXT_WIDTH columns, one index per token, in featurize's order."""
        position, first, last, to_end = positions(self.count)
        depths, quotes, years, periods, commas, closed = _per_token(self.states, self.count, 6)
        sentence = _per_token(self.segments, self.count, 8)
        return [position, first, last, self.glued_left, self.glued_right, depths, quotes,
                years, periods, commas, closed, to_end, *sentence, self.segment_starts]


def _per_token(runs: list[tuple[int, tuple[int, ...]]], count: int, width: int
               ) -> list[Sequence[int]]:
    """Runs of slots (first token, slots) as one column per slot, one index per token."""
    if not runs:
        return [()] * width
    bounds = [start for start, _ in runs[1:]] + [count]
    per_token = [slots for (start, slots), end in zip(runs, bounds, strict=True)
                 for _ in range(start, end)]
    columns: list[Sequence[int]] = [*zip(*per_token, strict=True)] if per_token else \
        [()] * width
    return columns


@dataclass(slots=True)
class Parts:
    """A token sequence's features, in pieces: each token's word, its context slots, and the
    heads the pairs of neighbours are made of."""

    words: list[_Word[Any]]
    context: Context
    heads: list[str]  # each token's lowercase head: pair_features of each two neighbours'
    texts: tuple[str, ...]  # each token's text


def pair_features(before: str, after: str) -> tuple[str, str]:
    """The features of two neighbours' heads: the later token's "w-1|w=a|b", the earlier's
    "w|w+1=a|b"."""
    return f"w-1|w={before}|{after}", f"w|w+1={before}|{after}"


def featurize(text: str, tokens: Sequence[Token], lexicon: Lexicon) -> list[list[str]]:
    """One list of string features per token: its own, its neighbours' (±2) and its place in the
    reference (relative position, brackets and quotes open, a year or a period already seen).

    The strings and their order are those the model was trained on:
    tests/test_refparser_features.py checks them against the plain per-token formulation that
    this replaced."""
    parts = sequence_parts(tokens, vocabulary(lexicon).cache)
    words = parts.words
    pairs = [pair_features(a, b) for a, b in pairwise(parts.heads)]
    context = parts.context.columns()
    count = len(words)
    names = (*CONTEXT, "")
    m2_none, m1_none, p1_none, p2_none = ((name,) for name in NEIGHBOUR_NONE)
    out: list[list[str]] = []
    for i in range(count):
        features = list(words[i].own)
        features += [names[column[i]] for column in context if column[i] != NO_FEATURE]
        features += words[i - 2].shown[0] if i >= 2 else m2_none
        features += words[i - 1].shown[1] if i >= 1 else m1_none
        features += words[i + 1].shown[2] if i + 1 < count else p1_none
        features += words[i + 2].shown[3] if i + 2 < count else p2_none
        if i > 0:
            features.append(pairs[i - 1][0])
        if i + 1 < count:
            features.append(pairs[i][1])
        out.append(features)
    return out


def sequence_parts(tokens: Sequence[Token], cache: WordCache[str, Any]) -> Parts:
    """The pieces every token's features are put together from (see featurize), each token's
    word from `cache`: as strings (featurize) or as attribute ids (crf.py)."""
    if not tokens:
        return Parts([], _context((), (), (), []), [], ())
    texts, starts, ends = zip(*tokens, strict=True)
    # The current generation's dict first, in C (map): a method call for every token was a
    # tenth of this (#12). A _Word is always true; None is a word not in that generation.
    seen: list[_Word[Any] | None] = list(map(cache.words.get, texts))
    words: list[_Word[Any]] = seen if all(seen) else [  # type: ignore[assignment]
        found or cache.get(text) for found, text in zip(seen, texts, strict=True)]
    heads = list(map(_HEAD_OF, words))
    return Parts(words, _context(texts, starts, ends, words), heads, texts)


@lru_cache(maxsize=1024)
def positions(count: int) -> tuple[tuple[int, ...], ...]:
    """The context slots a sequence's length alone decides, one column per slot: position,
    first, last, tokens to the end (cached: references have a few hundred lengths at most)."""
    none = NO_FEATURE
    return (tuple([_POS[10 * i // count] for i in range(count)]),
            (_FIRST, *(none,) * (count - 1)),
            ((none,) * (count - 1)) + (_LAST,),
            tuple([_TO_END_AT[min(count - i, 21)] for i in range(count)]))


_GLUED_LEFT_OF = (NO_FEATURE, _GLUED_LEFT)  # by whether the token is glued to the one before
_GLUED_RIGHT_OF = (NO_FEATURE, _GLUED_RIGHT)
_FIRST_STATE = (_DEPTH[0], NO_FEATURE, _YEARS[0], _PERIODS[0], _COMMAS[0], _QUOTES[0])


def _context(texts: Sequence[str], starts: Sequence[int], ends: Sequence[int],
             words: list[_Word[Any]]) -> Context:
    """The context slots of every token (see Context), the state made again only at a token
    that changes it: a row of twelve slots built for every token was a tenth of the tagger's
    time (#12). The tokens as three columns (texts, starts, ends), the per-token passes in C
    (map, compress) where they can be."""
    count = len(texts)
    none = NO_FEATURE
    glued = list(map(eq, starts[1:], ends))
    glued_left = [none, *map(_GLUED_LEFT_OF.__getitem__, glued)]
    glued_right = [*map(_GLUED_RIGHT_OF.__getitem__, glued), none]
    depth = 0
    quoted = False
    years = 0
    periods = 0
    commas = 0
    closed_quotes = 0
    runs: list[tuple[int, tuple[int, ...]]] = [(0, _FIRST_STATE)]
    last = count - 1
    # Only the tokens that change the state (brackets, quotes, commas, sentence ends, years).
    for i in compress(range(count), map(_STATEFUL_OF, words)):
        # State after this token, for the next ones.
        char = texts[i]
        year = words[i].year
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth = max(0, depth - 1)
        elif char in _QUOTES_OPEN and not quoted and i < last and glued[i]:
            quoted = True
        elif char in _QUOTES_CLOSE and quoted:
            quoted = False
            closed_quotes += 1
        elif char == ",":
            commas += 1
        if year:
            years += 1
        if char in ".?!" and i < last and starts[i + 1] > ends[i]:
            previous = texts[i - 1] if i else ""
            if len(previous) > 1 or previous.isdigit():  # not an initial's period
                periods += 1
        state = (_DEPTH[depth if depth < 2 else 2], _IN_QUOTE if quoted else none,
                 _YEARS[years if years < 2 else 2], _PERIODS[periods if periods < 6 else 6],
                 _COMMAS[commas if commas < 8 else 8],
                 _QUOTES[closed_quotes if closed_quotes < 2 else 2])
        if i < last and state != runs[-1][1]:
            runs.append((i + 1, state))
    segments = _segments(starts, ends, words)
    segment_starts = [none] * count
    for start, _ in segments:
        segment_starts[start] = _SEGMENT_START
    return Context(count, glued_left, glued_right, runs, segments, segment_starts)
