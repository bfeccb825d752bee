"""Label a free-text reference with the trained CRF and read its fields, each with a confidence.

The model (model.crfsuite) and its metadata (model.json: thresholds, lexicon, how it was trained)
ship inside this package; `python benchmarks/refparse_train.py` rebuilds both from the data. They
are loaded on the first parse, never at import time, so start-up does not pay for them.
"""

from __future__ import annotations

import json
import re
import threading
import unicodedata
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from functools import cache
from importlib import resources
from itertools import compress, pairwise
from operator import itemgetter, ne
from typing import TYPE_CHECKING, Any, NamedTuple, cast

from evidence_cli import doi as doi_rules
from evidence_cli.sources.refparser.names import family_names
from evidence_cli.sources.refparser.tokens import Token, tokenize

if TYPE_CHECKING:
    from evidence_cli.sources.refparser.crf import Tagger

MODEL_FILE = "model.crfsuite"
METADATA_FILE = "model.json"
# No reference runs to thousands of characters: a longer text is prose, and bounding it bounds
# the work (the CRF is linear in the tokens, the name splitter in the characters).
MAX_REFERENCE_CHARS = 3000
MAX_TOKENS = 600
FIELDS: tuple[str, ...] = ("authors", "first_author", "title", "container", "year", "volume",
                           "issue", "pages", "doi", "url")
_FIELD_LABEL = {"authors": "author", "title": "title", "container": "container", "year": "year",
                "volume": "volume", "issue": "issue", "pages": "pages"}
_URL = re.compile(r"https?://[^\s<>\"'\]\[{}|\\^`]+|\bwww\.[^\s<>\"'\]\[{}|\\^`]+", re.I)
_ATOMIC = re.compile(r"(?:https?://|www\.|10\.\d).*", re.I)
_YEAR = re.compile(r"^(1[5-9]\d\d|20\d\d)[a-z]?$")
# Words that introduce a number rather than being it ("vol. 13", "no. 6", "pp. 930").
_TERMS = frozenset(str.split(
    "vol vols volume volumes v bd band tome t jg jahrgang no nos nr n number num issue iss heft h "
    "pp p pages page s art article e-locator elocator º nº ª"
))
_DASH = "-–—‐‑−"
_PAGE_LIKE = re.compile(rf"(?<![\w.])([A-Za-z]{{0,2}}\d+[A-Za-z]?(?:[{_DASH}]+[A-Za-z]{{0,2}}\d+"
                        r"[A-Za-z]?)?)(?!\w|\.\d)")
# The fields whose value is the text of their run, unwrapped.
_TEXT_FIELDS = frozenset({"authors", "title", "container"})
# The first characters _ATOMIC can match at all (re.I: checked over every code point).
_ATOMIC_FIRST = frozenset("hHwW1")
_DASH_SPACED = re.compile(rf"\s*([{_DASH}]+)\s*")
_PAGES_ONLY = re.compile(rf"\w+(?:[{_DASH}]+\w+)?")
_PAGE_RANGE = re.compile(rf"(\d+)([{_DASH}]+)(\d+)")
_DECIMAL = re.compile(r"\d\.\d")
_IN_CONTAINER = re.compile(r"^in\s+(?!vi(?:vo|tro)\b|silico\b)(?=[\w*_“\"‘])", re.I)
_IN_COLON = re.compile(r"^in\s*:\s*", re.I)
_NON_WORD = re.compile(r"\W+")
# An editors' role the labels ran into the book's title: "(Eds.), Advances in ...", "eds.,
# Shock Metamorphism ..." (#11). Bare "Ed" is left alone: "Ed Tech Review" is a journal.
_ROLES = r"(?:eds?|editors?|hrsg|hg|dirs?|coords?)"
_ROLE_PREFIX = re.compile(rf"^(?:\({_ROLES}\.?\)|{_ROLES}\.?(?=[.,:;]))\s*[.,:;]?\s+", re.I)


class LabelledToken(NamedTuple):
    """One token of the reference: its text, offsets in the parsed string, label and the
    model's marginal probability of that label."""

    text: str
    start: int
    end: int
    label: str
    probability: float


class ParsedField(NamedTuple):
    """One field as the parser read it: its value, where it was read (character spans of the
    parsed string) and how sure the model is (0..1). `value` of "authors" is the family names
    joined by "; " — `ParsedReference.authors` has them as a tuple. A named tuple: immutable,
    and made several times a parse, faster than a frozen dataclass (#12)."""

    name: str
    value: str
    spans: tuple[tuple[int, int], ...]
    confidence: float


@dataclass(frozen=True, slots=True)
class ParsedReference:
    """Everything the parser read from one reference. `fields` holds every field it found,
    confident or not; `confident()` and `to_cited()` apply the thresholds chosen on validation
    data (a field under its threshold is left empty by `parse_reference`)."""

    text: str
    # The tokens, their labels and the marginals of those labels: `tokens` puts them together
    # when asked (few callers do, and making an object per token was a tenth of a parse, #12).
    token_spans: tuple[Token, ...]
    labels: tuple[str, ...]
    probabilities: tuple[float, ...]
    fields: tuple[ParsedField, ...]
    authors: tuple[str, ...]
    thresholds: tuple[tuple[str, float], ...]
    # The fields by name, and the thresholds as a dict: to_cited reads each field twice (#12).
    by_name: dict[str, ParsedField] = dataclass_field(init=False, repr=False, compare=False)
    threshold_of: dict[str, float] = dataclass_field(init=False, repr=False, compare=False)
    # Every DOI-looking string of `text` (doi.find_all, malformed ones too): the text reader
    # keeps the first and would otherwise look for them again in the same text (#12).
    found_dois: tuple[str, ...] = dataclass_field(default=(), repr=False, compare=False)

    def __post_init__(self) -> None:
        # The first of a name wins, as field() reads it.
        object.__setattr__(self, "by_name", {found.name: found for found in reversed(self.fields)})
        # The shipped thresholds' dict is made once and shared (no one writes to it, #12).
        object.__setattr__(self, "threshold_of", _threshold_of()
                           if self.thresholds is _thresholds() else dict(self.thresholds))

    @property
    def tokens(self) -> tuple[LabelledToken, ...]:
        return tuple([LabelledToken(t.text, t.start, t.end, label, probability)
                      for t, label, probability in zip(self.token_spans, self.labels,
                                                       self.probabilities, strict=True)])

    def field(self, name: str) -> ParsedField | None:
        return self.by_name.get(name)

    def threshold(self, name: str) -> float:
        return self.threshold_of.get(name, 1.0)

    def confident(self, name: str) -> ParsedField | None:
        """The field when its confidence reaches its threshold, else None."""
        found = self.field(name)
        if found is None or found.confidence < self.threshold(name):
            return None
        return found


_LOCK = threading.Lock()


@cache
def _metadata() -> dict[str, Any]:
    data = resources.files(__package__).joinpath(METADATA_FILE).read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(data)
    return loaded


@cache
def _tagger() -> Tagger:
    # Lazily: numpy and the model are loaded by the first parse, not at import time.
    from evidence_cli.sources.refparser import crf

    model = resources.files(__package__).joinpath(MODEL_FILE).read_bytes()
    return crf.Tagger(crf.read_model(model), _metadata()["lexicon"])


# Whole parses of the texts seen last: a reference is often written twice (in the reference
# section and in a footnote, or copied into two files of one run). A ParsedReference is
# immutable, so one parse can be handed out again. Bounded: a few MB at most.
_MEMO_SIZE = 256
_memo: dict[str, ParsedReference] = {}

class Labelled(NamedTuple):
    """A token sequence's best labels, and the marginals a field's confidence reads: each
    token's of its own label, and those of its label at the nearest words before and after it
    (where a field ends is as uncertain as the words beside it might belong to it)."""

    labels: list[str]
    own: list[float]
    before: list[float]  # token i's label's marginal at the nearest word before i (0: none)
    after: list[float]  # token i's label's marginal at the nearest word after i (0: none)
    words: list[bool]  # token i is a word (starts with a letter or a digit)


def label_tokens(text: str, tokens: list[Token]) -> Labelled:
    """Each token's best label and the marginals a field's confidence reads."""
    return label_sequences([tokens])[0]


def label_sequences(sequences: Sequence[list[Token]]) -> list[Labelled]:
    """label_tokens of many token sequences, tagged together (#12: one reference at a time, the
    tagger's fixed cost per call was most of a short reference's)."""
    tagger = _tagger()
    with _LOCK:  # the tagger's word cache is shared
        best, own, before, after, words = tagger.tag_for_fields(sequences)
    labels = list(map(tagger.model.labels.__getitem__, best))
    out: list[Labelled] = []
    at = 0
    for tokens in sequences:
        end = at + len(tokens)
        out.append(Labelled(labels[at:end], own[at:end], before[at:end], after[at:end],
                            words[at:end]))
        at = end
    return out


def parse_labelled(text: str) -> ParsedReference:
    """Label every token of one reference and read each field with its confidence."""
    return parse_many([text])[0]


def parse_many(texts: Sequence[str]) -> list[ParsedReference]:
    """parse_labelled of each text, the texts tagged together (much faster per reference than
    one at a time: the .docx reader hands a whole reference section, #12)."""
    found: dict[str, ParsedReference] = {}
    for text in texts:
        memo = _memo.get(text)
        if memo is not None:
            found[text] = memo
    missing = [text for text in dict.fromkeys(texts) if text not in found]
    if missing:
        prepared = [unicodedata.normalize("NFC", text[:MAX_REFERENCE_CHARS]) for text in missing]
        sequences = [tokenize(text)[:MAX_TOKENS] for text in prepared]
        labelled = label_sequences(sequences)
        for text, body, tokens, labels in zip(missing, prepared, sequences, labelled,
                                              strict=True):
            found[text] = _read(body, tokens, labels)
        for text in missing[-_MEMO_SIZE:]:
            _memo[text] = found[text]
        while len(_memo) > _MEMO_SIZE:
            del _memo[next(iter(_memo))]
    return [found[text] for text in texts]


def clear_memo() -> None:
    """Forget the parses kept for texts seen again (a benchmark times the parse itself)."""
    _memo.clear()


def _read(text: str, tokens: list[Token], labelled: Labelled) -> ParsedReference:
    """The parse of one reference from its labelled tokens."""
    labels = labelled.labels
    wordlike = labelled.words
    lower = text.lower()
    # The links and DOIs among the tokens: no field is read across one. One starts "http",
    # "www." or "10." (in some case: no other code point stands for h, t, p or w under
    # IGNORECASE): a text without any has none, and its tokens need no look (#12).
    atomic: set[int] = set()
    if "10." in text or "http" in lower or "www." in lower:
        # The tokens whose first character can start one found in C (map, compress), the
        # pattern tried on those only (#12).
        firsts = map(_FIRST_CHAR, map(_TEXT_OF, tokens))
        atomic = {i for i in compress(range(len(tokens)), map(_ATOMIC_FIRST.__contains__, firsts))
                  if _ATOMIC.fullmatch(tokens[i].text)}
    runs = _runs(labels)
    fields: list[ParsedField] = []
    authors: tuple[str, ...] = ()
    for name, label in _FIELD_LABEL.items():
        if label not in runs:
            continue
        field_runs = runs[label]
        closed: set[int] = set()
        if name == "title":
            field_runs, closed = _quoted_titles(tokens, wordlike, field_runs)
        found = _read_field(text, tokens, wordlike, atomic, labelled, name, field_runs, closed)
        if found is None:
            continue
        if name == "authors":
            families = tuple(family_names(found.value))
            if not families:
                continue
            authors = families
            found = _make_field(ParsedField, (name, "; ".join(families), found.spans,
                                              found.confidence))
            lead = _first_author(tokens, wordlike, labelled, found, families[0])
            if lead is not None:
                fields.append(lead)
        fields.append(found)
    dois = tuple(doi_rules.find_all(text))
    fields.extend(_identifiers(text, lower, dois))
    return ParsedReference(text, tuple(tokens), tuple(labels), tuple(labelled.own),
                           tuple(fields), authors, _thresholds(), dois)


# ParsedField's own constructor, without the keyword handling of a named tuple's __new__: a
# parse makes several (#12), as tokens.py makes its tokens.
_make_field = cast(Callable[[type[ParsedField], tuple[str, str, tuple[tuple[int, int], ...],
                                                    float]], ParsedField], tuple.__new__)


@cache
def _thresholds() -> tuple[tuple[str, float], ...]:
    return tuple(sorted(_metadata()["thresholds"].items()))


@cache
def _threshold_of() -> dict[str, float]:
    return dict(_thresholds())


_TEXT_OF = itemgetter(0)  # a token's text
_FIRST_CHAR = itemgetter(0)  # a (non-empty) string's first character


def _runs(labels: list[str]) -> dict[str, list[tuple[int, int]]]:
    """Label -> (first, end) of each run of tokens with that label, in order."""
    runs: dict[str, list[tuple[int, int]]] = {}
    count = len(labels)
    if not count:
        return runs
    # Where the label changes, found in C (map, compress), not token by token (#12).
    bounds = [0, *compress(range(1, count), map(ne, labels[1:], labels)), count]
    for start, end in pairwise(bounds):
        found = runs.get(labels[start])
        if found is None:
            runs[labels[start]] = [(start, end)]
        else:
            found.append((start, end))
    return runs


# A title's quotes, opening -> the closing ones ("``" and "''" are two tokens each).
_QUOTE_PAIRS = {'"': ('"',), "“": ("”",), "„": ("“", "”"), "«": ("»",), "``": ("''", '"')}
_CLOSING_PUNCTUATION = frozenset(",.;:!?")


def _quote_at(tokens: list[Token], i: int) -> str | None:
    """The opening or closing quote that starts at token i ("``" and "''" of two tokens glued),
    or None."""
    text = tokens[i].text
    if text in ("`", "'") and i + 1 < len(tokens) and tokens[i + 1].text == text and \
            tokens[i + 1].start == tokens[i].end:
        return text * 2
    return text if text in _QUOTE_PAIRS or text in ("”", "»") else None


def _quoted_titles(tokens: list[Token], wordlike: list[bool], runs: list[tuple[int, int]]
                   ) -> tuple[list[tuple[int, int]], set[int]]:
    """The title's runs, each cut at its closing quote when the title opens with a quote and the
    words labelled title go on past the quote that closes it ('“Title,” in Book', '``Title,''
    journal'): the quotes say where the title ends, more surely than the model. Returns the
    runs and the run ends that a closing quote set. A quote inside a title ('"Bad" science')
    is not closed by punctuation, and is kept."""
    out: list[tuple[int, int]] = []
    closed: set[int] = set()
    for first, last in runs:
        opening = first
        while opening < last and not wordlike[opening] and _quote_at(tokens, opening) is None:
            opening += 1
        if opening == last or wordlike[opening]:
            opening = first - 1  # the quote may be just before the run (labelled otherwise)
            while opening >= 0 and not wordlike[opening] and _quote_at(tokens, opening) is None:
                opening -= 1
        quote = _quote_at(tokens, opening) if 0 <= opening < len(tokens) and \
            not wordlike[opening] else None
        closers = _QUOTE_PAIRS.get(quote or "")
        end = last
        if closers:
            start = opening + len(quote or "")
            for i in range(max(start, first), last):
                found = _quote_at(tokens, i)
                if found is None or found not in closers:
                    continue
                after = i + len(found)
                # The title's own punctuation inside its quotes ('"Title," in', American
                # style), or a comma after them: a full stop after a quote may go on with more
                # title ('"Fixer l'opinion publique". Funktion der ...').
                punctuated = (i > 0 and tokens[i - 1].text in _CLOSING_PUNCTUATION) or (
                    after < len(tokens) and tokens[after].text == ",")
                if punctuated and True in wordlike[after:last]:
                    end = after
                    closed.add(end)
                break
        out.append((first, end))
    return out, closed


def _read_field(text: str, tokens: list[Token], wordlike: list[bool], atomic: set[int],
                labelled: Labelled, name: str,
                runs: list[tuple[int, int]], closed: Collection[int] = ()
                ) -> ParsedField | None:
    if len(runs) == 1:  # most fields are one run: no candidates to compare (#12)
        first, last = runs[0]
        words = wordlike[first:last]
        # A field is never read across a link or a DOI, nor from punctuation alone.
        if True not in words or (atomic and not atomic.isdisjoint(range(first, last))):
            return None
        value = _value(name, tokens[first:last], words, text)
        if not value:
            return None
        doubt = False
    else:
        candidates = []
        for first, last in runs:
            words = wordlike[first:last]
            if True not in words or (atomic and not atomic.isdisjoint(range(first, last))):
                continue
            value = _value(name, tokens[first:last], words, text)
            if value:
                candidates.append((first, last, value))
        if not candidates:
            return None
        # A field written twice ("2011 ... 2011") is read once; two different readings are
        # doubt.
        first, last, value = candidates[0]
        doubt = any(_norm(c[2]) != _norm(value) for c in candidates[1:])
        words = wordlike[first:last]
    own = labelled.own
    confidence = min(compress(own[first:last], words), default=own[first])
    # Where the field ends is as uncertain as the words just outside it might belong to it
    # (the nearest ones, past punctuation: #11).
    confidence = min(confidence, 1.0 - labelled.before[first])
    if last not in closed:  # (where a closing quote ends it, the words after are not its)
        confidence = min(confidence, 1.0 - labelled.after[last - 1])
    if doubt:
        confidence *= 0.5
    start, end = tokens[first].start, tokens[last - 1].end
    at = text.find(value, start, end)
    span = (at, at + len(value)) if at >= 0 else (start, end)  # expanded pages: the tokens
    return _make_field(ParsedField, (name, value, (span,), round(confidence, 4)))


# After the first author's family name, the tokens that may still be that author's: initials,
# and the punctuation between them ("Doe, A. B.", "Doe AB").
_LEAD_TAIL_TOKENS = 5


def _first_author(tokens: list[Token], wordlike: list[bool], labelled: Labelled,
                  authors: ParsedField, family: str) -> ParsedField | None:
    """The first author alone, with the model's confidence in its own words: a long author list
    whose end is in doubt (where editors or the title begin) says nothing against its first
    name, which a check reads on its own (#11)."""
    start, end = authors.spans[0]
    run: list[int] = []
    for i, token in enumerate(tokens):  # the authors come first: stop where they end
        if token.start >= end:
            break
        if token.start >= start and token.end <= end:
            run.append(i)
    key = family.split()[0].lower() if family.split() else ""
    at = next((i for i in run if tokens[i].text.lower() == key), None)
    if not run or at is None:
        return None
    last = at + 1
    while last <= run[-1] and last - at <= _LEAD_TAIL_TOKENS and (
            not wordlike[last] or (len(tokens[last].text) <= 2 and tokens[last].text[0].isupper())):
        last += 1
    while last - 1 > at and not wordlike[last - 1]:
        last -= 1
    own = labelled.own
    confidence = min(compress(own[run[0]:last], wordlike[run[0]:last]), default=own[run[0]])
    confidence = min(confidence, 1.0 - labelled.before[run[0]])
    if last > run[-1]:
        confidence = min(confidence, 1.0 - labelled.after[run[-1]])
    span = (tokens[at].start, tokens[at].end)
    return _make_field(ParsedField, ("first_author", family, (span,), round(confidence, 4)))


def _norm(value: str) -> str:
    return _NON_WORD.sub("", value.lower())


def _value(name: str, run: list[Token], wordlike: list[bool], text: str) -> str | None:
    """The field's value from the tokens labelled with it (some word-like, none a link or a
    DOI): the words the style put around it ("vol.", "pp.", "In:", quotes, brackets) are not
    part of it."""
    if name in _TEXT_FIELDS:
        value = _strip_wrapping(text[run[0].start:run[-1].end])
        if name == "container":
            value = _strip_wrapping(_ROLE_PREFIX.sub("", _IN_CONTAINER.sub("", value)))
            if value.lower() == "in":
                # The chapter's "In" with no book after it ("In . Apress."): no container (#11).
                return None
        return value or None
    words = list(compress(run, wordlike))
    if name == "year":
        year = next((t.text for t in words if _YEAR.match(t.text)), None)
        return year[:4] if year else None
    if name in ("volume", "issue", "pages"):
        while words and words[0].text.lower() in _TERMS and len(words) > 1:
            words = words[1:]
        if not any(map(str.isdigit, "".join([t.text for t in words]))) and name != "issue":
            return None
        if name == "pages":
            value = text[words[0].start:words[-1].end]
            # Without a space inside (the run starts and ends with a word) the substitution
            # gives the text back, and its template is expanded in Python per dash (#12).
            if len(value.split()) > 1:
                value = _DASH_SPACED.sub(r"\1", value)
            if _PAGES_ONLY.fullmatch(value):
                return expand_pages(value)
            # A run that took in a word or a number beside the pages ("Edition, 112771",
            # "1026–1052, 7 mar."): the one page range in it, or else its one number.
            found = _PAGE_LIKE.findall(value) if not _DECIMAL.search(value) else []
            ranges = [f for f in found if any(ch in _DASH for ch in f)]
            if len(ranges) == 1 or (not ranges and len(found) == 1):
                return expand_pages((ranges or found)[0])
            return None
        # The number and what is joined to it without a space ("5-6", "S1", "3/4").
        j = run.index(words[0])
        first = j
        while (j + 2 < len(run) and run[j + 1].text in f"/{_DASH}" and
               run[j + 1].start == run[j].end and run[j + 2].start == run[j + 1].end and
               run[j + 2].text[0].isalnum()):
            j += 2
        value = text[run[first].start:run[j].end]
        # An English ordinal is its number ("14th volume": 14, #11).
        ordinal = _ORDINAL.fullmatch(value)
        return ordinal.group(1) if ordinal else value
    return None


_ORDINAL = re.compile(r"(\d+)(?:st|nd|rd|th)", re.I)
_WRAPPERS = (("``", "''"), ("“", "”"), ('"', '"'), ("‘", "’"), ("'", "'"), ("«", "»"),
             ("*", "*"), ("_", "_"), ("(", ")"), ("[", "]"))
_WRAPPER_FIRST = frozenset(left[0] for left, _ in _WRAPPERS)
# What _IN_COLON's "in" can start with under IGNORECASE ("İ" and "ı" stand for "i" there).
_IN_FIRST = frozenset("iIİı")


# The first and the last characters one round of _strip_wrapping can take off or look at: a
# value whose ends are neither is left as it is, and another round is saved (#12).
_STRIPPED = " .,;:"
_WRAP_FIRST = frozenset(_STRIPPED) | _IN_FIRST | _WRAPPER_FIRST | frozenset("“\"‘«*_")
_WRAP_LAST = frozenset(_STRIPPED) | frozenset(right[-1] for _, right in _WRAPPERS) | \
    frozenset("”\"’»*_")


def _strip_wrapping(value: str) -> str:
    """Without the quotes, emphasis marks, brackets and punctuation a style wraps a field in."""
    previous = None
    while previous != value:
        if not value or (value[0] not in _WRAP_FIRST and value[-1] not in _WRAP_LAST):
            return value  # the round would leave it as it is
        previous = value
        value = value.strip(" .,;:")
        if value[:1] in _IN_FIRST:  # else _IN_COLON cannot match (#12)
            value = _IN_COLON.sub("", value)
        if value[:1] in _WRAPPER_FIRST:  # else no wrapper can match, nor after one did
            for left, right in _WRAPPERS:
                if value.startswith(left) and value.endswith(right) and len(value) > 2:
                    value = value[len(left):-len(right)]
        # `value and`: "" is in every string, and an empty value has no first character
        # ("In: ’" left nothing once the quote went; found by tests/test_sources_freetext.py).
        if value and value[0] in "“\"‘«*_" and value.count(value[0]) == 1:
            value = value[1:]
        if value and value[-1] in "”\"’»*_" and value.count(value[-1]) == 1:
            value = value[:-1]
    return value


def expand_pages(pages: str) -> str:
    """"923-8" -> "923-928": Vancouver and Chicago shorten the last page; the record does not."""
    match = _PAGE_RANGE.fullmatch(pages)
    if not match:
        return pages
    first, dash, last = match.groups()
    if len(last) < len(first):
        last = first[: len(first) - len(last)] + last
    return f"{first}{dash}{last}"


def _identifiers(text: str, lower: str, found: tuple[str, ...]) -> list[ParsedField]:
    """DOI and URL are read by their own rules (evidence_cli/doi.py), not by the model
    (`lower`: the text in lower case; `found`: doi.find_all of it)."""
    out: list[ParsedField] = []
    dois = [d for d in found if doi_rules.is_valid(d)]
    if dois:
        at = lower.find(dois[0])
        spans = ((at, at + len(dois[0])),) if at >= 0 else ()
        out.append(ParsedField("doi", dois[0], spans, 1.0))
    # _URL needs "http" or "www." (in some case: no other code point stands for h, t, p or w
    # under IGNORECASE); most references have neither, and the scan was a tenth of this (#12).
    if "http" not in lower and "www." not in lower:
        return out
    for match in _URL.finditer(text):
        url = doi_rules.strip_trailing_punctuation(match.group(0))
        if not doi_rules.is_doi_url(url):
            out.append(ParsedField("url", url, ((match.start(), match.start() + len(url)),), 1.0))
            break
    return out


def model_info() -> dict[str, Any]:
    """How the shipped model was trained (model.json without its lexicon)."""
    return {k: v for k, v in _metadata().items() if k != "lexicon"}

