"""Label a free-text reference with the trained CRF and read its fields, each with a confidence.

The model (model.crfsuite) and its metadata (model.json: thresholds, lexicon, how it was trained)
ship inside this package; `python benchmarks/refparse_train.py` rebuilds both from the data. They
are loaded on the first parse, never at import time, so start-up does not pay for them.
"""

from __future__ import annotations

import json
import re
import struct
import threading
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from typing import Any

from evidence_cli import doi as doi_rules
from evidence_cli.sources.refparser.features import model_features
from evidence_cli.sources.refparser.names import family_names
from evidence_cli.sources.refparser.tokens import Token, tokenize

MODEL_FILE = "model.crfsuite"
METADATA_FILE = "model.json"
# No reference runs to thousands of characters: a longer text is prose, and bounding it bounds
# the work (the CRF is linear in the tokens, the name splitter in the characters).
MAX_REFERENCE_CHARS = 3000
MAX_TOKENS = 600
FIELDS: tuple[str, ...] = ("authors", "title", "container", "year", "volume", "issue", "pages",
                           "doi", "url")
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


@dataclass(frozen=True, slots=True)
class LabelledToken:
    """One token of the reference: its text, offsets in the parsed string, label and the
    model's marginal probability of that label."""

    text: str
    start: int
    end: int
    label: str
    probability: float


@dataclass(frozen=True, slots=True)
class ParsedField:
    """One field as the parser read it: its value, where it was read (character spans of the
    parsed string) and how sure the model is (0..1). `value` of "authors" is the family names
    joined by "; " — `ParsedReference.authors` has them as a tuple."""

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
    tokens: tuple[LabelledToken, ...]
    fields: tuple[ParsedField, ...]
    authors: tuple[str, ...]
    thresholds: tuple[tuple[str, float], ...]

    def field(self, name: str) -> ParsedField | None:
        return next((f for f in self.fields if f.name == name), None)

    def threshold(self, name: str) -> float:
        return dict(self.thresholds).get(name, 1.0)

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
def _loaded() -> tuple[Any, bytes, frozenset[bytes] | None]:
    import pycrfsuite  # lazily: only a free-text reference needs it

    tagger = pycrfsuite.Tagger()
    model = resources.files(__package__).joinpath(MODEL_FILE).read_bytes()
    tagger.open_inmemory(model)
    # crfsuite reads the model in place: the bytes must live as long as the tagger does.
    return tagger, model, model_attributes(model)


def _tagger() -> Any:
    return _loaded()[0]


_CRF1_HEADER = struct.Struct("<4sI4sIIIIIIIII")
_CQDB_HEADER = struct.Struct("<4sIIIII")
_CQDB_BYTE_ORDER = 0x62445371
_CQDB_DATA = _CQDB_HEADER.size + 256 * 8  # after the header and the 256 hash-table references
_RECORD = struct.Struct("<iI")


def model_attributes(model: bytes) -> frozenset[bytes] | None:
    """The attributes (feature strings) a crfsuite CRF1 model has weights for, read from its
    attribute dictionary (a CQDB chunk: records of id, key size and NUL-terminated key); None
    when the bytes are not laid out so. The tagger is given only these: crfsuite drops every
    other attribute after looking it up, and that lookup was a sixth of the tagger's time."""
    try:
        magic, _, kind, _, _, _, count, _, _, offset, _, _ = _CRF1_HEADER.unpack_from(model)
        chunk, size, _, order, _, _ = _CQDB_HEADER.unpack_from(model, offset)
        if magic != b"lCRF" or kind != b"FOMC" or chunk != b"CQDB" or order != _CQDB_BYTE_ORDER:
            return None
        keys: list[bytes] = []
        at = offset + _CQDB_DATA
        for _ in range(count):
            _, length = _RECORD.unpack_from(model, at)
            start = at + _RECORD.size
            at = start + length
            if length < 1 or at > min(offset + size, len(model)) or model[at - 1] != 0:
                return None
            keys.append(model[start:at - 1])
    except struct.error:
        return None
    return frozenset(keys)


# The labels whose fields _read_field reads; at their edges it asks how likely the token beside
# the field is to belong to it.
_READ_LABELS = frozenset(_FIELD_LABEL.values())
# Whole parses of the texts seen last: a reference is often written twice (in the reference
# section and in a footnote, or copied into two files of one run). A ParsedReference is
# immutable, so one parse can be handed out again. Bounded: a few MB at most.
_MEMO_SIZE = 256


def label_tokens(text: str, tokens: list[Token]) -> list[tuple[str, dict[str, float]]]:
    """Each token's best label and the marginal probabilities a field's confidence reads: of the
    token's own label, and at a field's edge of the neighbouring field's label (where a field
    ends is as uncertain as the tokens beside it)."""
    if not tokens:
        return []
    _, _, known = _loaded()
    xseq = model_features(tokens, _metadata()["lexicon"], known)
    count = len(tokens)
    # The tokens beside a field that _read_field reads (it passes over punctuation).
    wordlike = [t.text[0].isalnum() for t in tokens]
    # A pycrfsuite Tagger holds one sequence at a time: keep parses in threads apart.
    with _LOCK:
        tagger = _tagger()
        tagger.set(xseq)
        best = tagger.tag()
        marginal = tagger.marginal
        # Asking for every label at every token cost a fifth of the parse, and asking for the
        # labels of each token's neighbours still a tenth (#12): only what is read is asked.
        labelled = [(label, {label: marginal(label, i)}) for i, label in enumerate(best)]
        for i in range(count - 1):
            this, after = best[i], best[i + 1]
            if this == after:
                continue
            before_word = _word_before(wordlike, i + 1)
            after_word = _word_after(wordlike, i + 1)
            if after in _READ_LABELS and before_word is not None:
                labelled[before_word][1][after] = marginal(after, before_word)
            if this in _READ_LABELS and after_word is not None:
                labelled[after_word][1][this] = marginal(this, after_word)
    return labelled


def _word_before(wordlike: list[bool], first: int) -> int | None:
    """The last word before token `first` (punctuation passed over), if any."""
    return next((k for k in range(first - 1, -1, -1) if wordlike[k]), None)


def _word_after(wordlike: list[bool], last: int) -> int | None:
    """The first word from token `last` on (punctuation passed over), if any."""
    return next((k for k in range(last, len(wordlike)) if wordlike[k]), None)


def parse_labelled(text: str) -> ParsedReference:
    """Label every token of one reference and read each field with its confidence."""
    return _parse(text)


def clear_memo() -> None:
    """Forget the parses kept for texts seen again (a benchmark times the parse itself)."""
    _parse.cache_clear()


@lru_cache(maxsize=_MEMO_SIZE)
def _parse(text: str) -> ParsedReference:
    text = unicodedata.normalize("NFC", text[:MAX_REFERENCE_CHARS])
    tokens = tokenize(text)[:MAX_TOKENS]
    labelled = label_tokens(text, tokens)
    out_tokens = tuple([
        LabelledToken(t.text, t.start, t.end, label, marginals[label])
        for t, (label, marginals) in zip(tokens, labelled, strict=True)
    ])
    runs = _runs(labelled)
    fields: list[ParsedField] = []
    authors: tuple[str, ...] = ()
    for name, label in _FIELD_LABEL.items():
        if label not in runs:
            continue
        found = _read_field(text, tokens, labelled, name, label, runs[label])
        if found is None:
            continue
        if name == "authors":
            families = tuple(family_names(found.value))
            if not families:
                continue
            authors = families
            found = ParsedField(name, "; ".join(families), found.spans, found.confidence)
        fields.append(found)
    fields.extend(_identifiers(text))
    return ParsedReference(text, out_tokens, tuple(fields), authors, _thresholds())


def _thresholds() -> tuple[tuple[str, float], ...]:
    return tuple(sorted(_metadata()["thresholds"].items()))


def _runs(labelled: list[tuple[str, dict[str, float]]]) -> dict[str, list[tuple[int, int]]]:
    """Label -> (first, end) of each run of tokens with that label, in order."""
    runs: dict[str, list[tuple[int, int]]] = {}
    start = 0
    for i in range(1, len(labelled) + 1):
        if i == len(labelled) or labelled[i][0] != labelled[start][0]:
            runs.setdefault(labelled[start][0], []).append((start, i))
            start = i
    return runs


def _read_field(text: str, tokens: list[Token], labelled: list[tuple[str, dict[str, float]]],
                name: str, label: str, runs: list[tuple[int, int]]) -> ParsedField | None:
    candidates = []
    for first, last in runs:
        value = _value(name, tokens[first:last], text)
        if value:
            candidates.append((first, last, value))
    if not candidates:
        return None
    # A field written twice ("2011 ... 2011") is read once; two different readings are doubt.
    first, last, value = candidates[0]
    others = [c for c in candidates[1:] if _norm(c[2]) != _norm(value)]
    inside = [labelled[i][1].get(label, 0.0) for i in range(first, last)
              if tokens[i].text[0].isalnum()] or [labelled[first][1].get(label, 0.0)]
    confidence = min(inside)
    # Where the field ends is as uncertain as the words just outside it might belong to it:
    # the nearest words, past punctuation (in "FXTAS,” Am. J. Med." the doubt whether the
    # journal starts at "Am" sits on "Am", not on the period before "J", #11).
    wordlike = [t.text[0].isalnum() for t in tokens]
    for i in (_word_before(wordlike, first), _word_after(wordlike, last)):
        if i is not None:
            confidence = min(confidence, 1.0 - labelled[i][1].get(label, 0.0))
    if others:
        confidence *= 0.5
    start, end = tokens[first].start, tokens[last - 1].end
    at = text.find(value, start, end)
    span = (at, at + len(value)) if at >= 0 else (start, end)  # expanded pages: the tokens
    return ParsedField(name, value, (span,), round(confidence, 4))


def _norm(value: str) -> str:
    return _NON_WORD.sub("", value.lower())


def _value(name: str, run: list[Token], text: str) -> str | None:
    """The field's value from the tokens labelled with it: the words the style put around it
    ("vol.", "pp.", "In:", quotes, brackets) are not part of it."""
    words = [t for t in run if t.text[0].isalnum()]
    if not words or any([_ATOMIC.fullmatch(t.text) for t in words
                         if t.text[0] in _ATOMIC_FIRST]):
        return None  # a field is never read across a link or a DOI
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
        return text[run[first].start:run[j].end]
    value = _strip_wrapping(text[run[0].start:run[-1].end])
    if name == "container":
        value = _strip_wrapping(_ROLE_PREFIX.sub("", _IN_CONTAINER.sub("", value)))
    return value or None


_WRAPPERS = (("``", "''"), ("“", "”"), ('"', '"'), ("‘", "’"), ("'", "'"), ("«", "»"),
             ("*", "*"), ("_", "_"), ("(", ")"), ("[", "]"))
_WRAPPER_FIRST = frozenset(left[0] for left, _ in _WRAPPERS)


def _strip_wrapping(value: str) -> str:
    """Without the quotes, emphasis marks, brackets and punctuation a style wraps a field in."""
    previous = None
    while previous != value:
        previous = value
        value = value.strip(" .,;:")
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


def _identifiers(text: str) -> list[ParsedField]:
    """DOI and URL are read by their own rules (evidence_cli/doi.py), not by the model."""
    out: list[ParsedField] = []
    dois = [d for d in doi_rules.find_all(text) if doi_rules.is_valid(d)]
    if dois:
        at = text.lower().find(dois[0])
        spans = ((at, at + len(dois[0])),) if at >= 0 else ()
        out.append(ParsedField("doi", dois[0], spans, 1.0))
    for match in _URL.finditer(text):
        url = doi_rules.strip_trailing_punctuation(match.group(0))
        if not doi_rules.is_doi_url(url):
            out.append(ParsedField("url", url, ((match.start(), match.start() + len(url)),), 1.0))
            break
    return out


def model_info() -> dict[str, Any]:
    """How the shipped model was trained (model.json without its lexicon)."""
    return {k: v for k, v in _metadata().items() if k != "lexicon"}

