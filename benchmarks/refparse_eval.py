"""Per-field recall and precision of the reference parser on held-out data.

    python benchmarks/refparse_eval.py [--write]

Held-out data (benchmarks/refparse_split.json; never trained or tuned on):
- the test fifth of ../shared/refparse/anystyle-core.xml (journal articles: sequences with a
  `journal` tag; chapters: with a `container-title` tag);
- Crossref records of the test fifth rendered by citeproc-py in the held-out CSL styles, as
  rendered (with or without a DOI, as the style prints it) — journal articles, and chapters and
  proceedings papers as "chapter" (a chapter whose record names no editors is mostly given
  constructed ones, borrowed from another record's authors, so that "In: Editor (ed.) Book"
  forms occur);
- the same, degraded the ways refparse_data.degrade() does (DOI dropped or appended in another
  form, list numbers, typos, Markdown emphasis, other separators, abbreviated journal, no issue).

Definitions. A field is *predicted* when `parse_reference` returns it (confidence at or above
its threshold); it is *correct* when it equals the gold value after normalisation (case-folded,
every non-letter, non-digit character removed; pages read as a range with the last page
expanded, "923-8" = "923–928"). Gold values are read from the gold spans by the same rules that
read the parser's spans (a year is the four-digit year in the date span; volume, issue and pages
drop "vol.", "no.", "pp."); the first author is the family name of the record's first author for
rendered references and of the first name in the gold author span for anystyle's. Recall =
correct / gold fields present; precision = correct / predicted.
"""

from __future__ import annotations

import argparse
import datetime
import platform
import random
import re
import sys
import time
import unicodedata
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for _path in (str(ROOT), str(ROOT / "benchmarks")):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from refparse_data import (  # noqa: E402
    Labelled,
    SyntheticOptions,
    load_anystyle,
    load_records,
    load_split,
    synthetic,
    token_labels,
)

from evidence_cli.sources.refparser import names, parser  # noqa: E402

METRIC_FIELDS = ("first_author", "title", "container", "volume", "issue", "pages", "year")
KINDS = ("article", "chapter")
RESULTS = ROOT / "benchmarks" / "results" / "refparse.md"
TARGET_RECALL = 0.95
TARGET_PRECISION = 0.97


def normalise(field: str, value: str | None) -> str | None:
    if value is None:
        return None
    text = unicodedata.normalize("NFKD", value)
    text = "".join(c for c in text if not unicodedata.combining(c))
    if field == "pages":
        text = re.sub(r"\s*[-–—‐‑−]+\s*", "-", text)
        text = parser.expand_pages(text) if re.fullmatch(r"\d+-\d+", text) else text
    out = re.sub(r"[\W_]+", "", text.casefold())
    return out or None


def gold_fields(ref: Labelled) -> dict[str, str]:
    """The reference's gold values, read from its gold spans like the parser reads its own."""
    tokens, labels = token_labels(ref)
    out: dict[str, str] = {}
    for field, label in (("title", "title"), ("container", "container"), ("volume", "volume"),
                         ("issue", "issue"), ("pages", "pages"), ("year", "year")):
        runs: list[list[Any]] = []
        for i, lab in enumerate(labels):
            if lab == label:
                if i and labels[i - 1] == label and runs:
                    runs[-1].append(tokens[i])
                else:
                    runs.append([tokens[i]])
        for run in runs:
            value = parser._value(field, run, [t.text[:1].isalnum() for t in run], ref.text)
            if value:
                out[field] = value
                break
    if ref.first_family and any(s[0] == "author" for s in ref.spans):
        out["first_author"] = ref.first_family
    elif ref.source == "anystyle":
        author = ref.values("author")
        families = names.family_names(author[0]) if author else []
        if families:
            out["first_author"] = families[0]
    return out


def predicted_fields(parsed: parser.ParsedReference, thresholds: dict[str, float] | None = None
                     ) -> dict[str, tuple[str, float]]:
    """Every field the parser read, with its confidence (thresholds not applied)."""
    out: dict[str, tuple[str, float]] = {}
    for found in parsed.fields:
        if found.name == "authors":
            if parsed.authors:
                out["authors"] = (parsed.authors[0], found.confidence)
        elif found.name in METRIC_FIELDS:
            out[found.name] = (found.value, found.confidence)
    if "authors" in out and "first_author" not in out:
        out["first_author"] = (out["authors"][0], 0.0)  # only with the whole list
    return out


def _returned(field: str, guess: dict[str, tuple[str, float]],
              thresholds: dict[str, float]) -> bool:
    """Whether parse_reference returns the field: the first author comes with the whole list
    (the authors' confidence) or alone (its own), as freetext.to_cited gives it."""
    if field == "first_author":
        return any(name in guess and guess[name][1] >= thresholds.get(name, 1)
                   for name in ("authors", "first_author"))
    return guess[field][1] >= thresholds.get(field, 1)


def score(refs: list[Labelled], thresholds: dict[str, float] | None = None
          ) -> tuple[dict[tuple[str, str], dict[str, int]], list[tuple[str, float, bool]], float]:
    """Counts per (kind, field): gold, predicted, correct; every (field, confidence, correct)
    seen; and milliseconds per reference."""
    counts: dict[tuple[str, str], dict[str, int]] = defaultdict(
        lambda: {"gold": 0, "predicted": 0, "correct": 0})
    seen: list[tuple[str, float, bool]] = []
    elapsed = 0.0
    for ref in refs:
        if ref.kind not in KINDS:
            continue
        gold = gold_fields(ref)
        start = time.perf_counter()
        parsed = parser.parse_labelled(ref.text)
        elapsed += time.perf_counter() - start
        guess = predicted_fields(parsed)
        for field in METRIC_FIELDS:
            cell = counts[(ref.kind, field)]
            gold_value = normalise(field, gold.get(field))
            if gold_value:
                cell["gold"] += 1
            if field not in guess:
                continue
            value, confidence = guess[field]
            right = gold_value is not None and normalise(field, value) == gold_value
            seen.append((field, confidence, right))
            if field == "first_author" and "authors" in guess:
                seen.append(("authors", guess["authors"][1], right))
            if thresholds is not None and not _returned(field, guess, thresholds):
                continue
            cell["predicted"] += 1
            cell["correct"] += int(right)
    per_ref = 1000 * elapsed / max(1, sum(1 for r in refs if r.kind in KINDS))
    return counts, seen, per_ref


def choose_thresholds(seen: list[tuple[str, float, bool]], precision: float = 0.98
                      ) -> dict[str, float]:
    """Per field, the lowest confidence threshold whose predictions on validation data reach
    `precision` (every prediction at or above the threshold counted)."""
    out: dict[str, float] = {}
    # The whole author list is judged by its first author, as the first author alone is.
    for field in ("authors", *METRIC_FIELDS):
        pairs = sorted(((c, r) for f, c, r in seen if f == field), reverse=True)
        best = 1.0
        correct = 0
        for index, (confidence, right) in enumerate(pairs, 1):
            correct += int(right)
            if correct / index >= precision:
                best = confidence
        out[field] = round(max(best, 0.05), 4)
    out.setdefault("doi", 0.0)
    out.setdefault("url", 0.0)
    return out


def table(counts: dict[tuple[str, str], dict[str, int]]) -> list[str]:
    lines = ["| kind | field | gold | predicted | correct | recall | precision |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    for kind in KINDS:
        for field in METRIC_FIELDS:
            cell = counts.get((kind, field))
            # A field no reference of the kind has but the parser gave some is shown too: all
            # it predicted is wrong (a chapter's "volume" read from its book's edition).
            if not cell or not (cell["gold"] or cell["predicted"]):
                continue
            recall = f"{100 * cell['correct'] / cell['gold']:.1f}%" if cell["gold"] else "–"
            precision = f"{100 * cell['correct'] / cell['predicted']:.1f}%" \
                if cell["predicted"] else "–"
            lines.append(f"| {kind} | {field} | {cell['gold']} | {cell['predicted']} | "
                         f"{cell['correct']} | {recall} | {precision} |")
    return lines


def held_out() -> dict[str, list[Labelled]]:
    """The two held-out sets, built exactly as the split file says."""
    split = load_split()
    anystyle = load_anystyle()
    test_any = [anystyle[i] for i in split["anystyle"]["test"]]
    records = load_records()
    rendered = synthetic(records, split["records"]["test"], split["styles"]["test"],
                         SyntheticOptions(per_style=40, variants=False, seed=split["seed"] + 2))
    degraded = synthetic(records, split["records"]["test"], split["styles"]["test"],
                         SyntheticOptions(per_style=20, variants=True, seed=split["seed"] + 3))
    styles = len(split["styles"]["test"])
    return {"anystyle-core held-out fifth": test_any,
            f"rendered: {styles} held-out styles × held-out records, as the style prints them":
                rendered,
            f"rendered and degraded: {styles} held-out styles × held-out records, with DOI "
            "dropped or appended, list numbers, typos, Markdown emphasis, other punctuation, "
            "abbreviated journal, no issue": degraded}


def summary(counts: dict[tuple[str, str], dict[str, int]]) -> tuple[float, float]:
    """The lowest recall and the lowest precision over the article and chapter fields."""
    recalls = [c["correct"] / c["gold"] for c in counts.values() if c["gold"]]
    precisions = [c["correct"] / c["predicted"] for c in counts.values() if c["predicted"]]
    return min(recalls, default=0.0), min(precisions, default=0.0)


def main(argv: list[str] | None = None) -> int:
    arguments = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    arguments.add_argument("--write", action="store_true",
                           help="write benchmarks/results/refparse.md")
    options = arguments.parse_args(argv)
    random.seed(0)
    info = parser.model_info()
    thresholds = {k: float(v) for k, v in info["thresholds"].items()}
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Reference parser",
        "",
        f"Measured {stamp} on {platform.system()} {platform.machine()}, Python "
        f"{platform.python_version()} with `python benchmarks/refparse_eval.py --write` "
        f"(model trained {info.get('trained', '?')} by `python benchmarks/refparse_train.py`).",
        "",
        "Held-out data only (split in benchmarks/refparse_split.json); thresholds chosen on the "
        "validation split of the training side (anystyle's validation part, and validation "
        "records the model never saw rendered in validation styles). *Predicted*: returned by "
        "`parse_reference` (confidence at or above the field's threshold); *correct*: equal to "
        "the gold value after normalisation (case, punctuation and spaces ignored; pages as a "
        "range with the last page expanded); first author = family name of the first author. "
        "Recall = correct / gold present; precision = correct / predicted. Goals (#11): recall ≥ "
        "95% and precision ≥ 97% for every field.",
    ]
    worst: list[str] = []
    for name, refs in held_out().items():
        counts, _, per_ref = score(refs, thresholds)
        kinds = {k: sum(1 for r in refs if r.kind == k) for k in KINDS}
        low_recall, low_precision = summary(counts)
        worst.append(f"{name}: lowest recall {100 * low_recall:.1f}%, lowest precision "
                     f"{100 * low_precision:.1f}%")
        lines += ["", f"## {name}", "",
                  f"{kinds['article']} journal articles, {kinds['chapter']} chapters; "
                  f"{per_ref:.2f} ms a reference.", "", *table(counts)]
    lines += ["", "Thresholds (confidence = the lowest marginal probability of the field's "
              "words, and one minus that of the words beside it): " +
              ", ".join(f"{k} {v:.3f}" for k, v in sorted(thresholds.items())
                        if k not in ("doi", "url")) + "."]
    text = "\n".join(lines) + "\n"
    print(text)
    print("\n".join(worst))
    if options.write:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
