"""End to end through `evidence check`: references in CSL styles the parser never saw (#11).

Real recorded Crossref records (the held-out fifth of benchmarks/refparse_split.json, never used
to train or tune the parser) are rendered by citeproc-py through the held-out CSL styles of the
same split, and written as one plain-text reference list:

- clean, with the DOI (the style's own DOI, or a doi.org link appended where the style prints
  none): any warning or error other than the record's own notices (retraction, correction,
  expression of concern) is a false alarm;
- one injected error each, with the DOI: issue, volume, first page, year changed in the rendered
  item (only where the style prints that field), and the DOI of another held-out record (a wrong
  DOI): found when the reference gets the right code (`issue-mismatch`, ..., `doi-mismatch`);
- without a DOI: matched when `doi-suggested` names the record's DOI; a suggestion of any other
  DOI is a wrong DOI. One record in five is withheld from the simulator: its references cite a
  work Crossref does not hold, so the only right answer is no suggestion.

The list goes through the real command (`evidence check FILE --format json --no-urls`) against
the Crossref simulator (tests/simulator.py) on 127.0.0.1.

    python benchmarks/styles_e2e.py [--styles 24] [--write]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import hashlib
import json
import random
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, CrossrefSimulator, cli_env, machine, run_cli
from refparse_data import csl_item, kind_of, load_records, load_split, render, usable

RESULTS = ROOT / "benchmarks" / "results" / "styles.md"
# The record's own notices: true of the work, not alarms about the citation.
NOTICE_CODES = frozenset({"retracted", "corrected", "expression-of-concern", "withdrawn",
                          "updated", "removed", "update-notice", "published-version-available"})
INJECTIONS = ("issue", "volume", "pages", "year", "doi")
EXPECTED_CODE = {"issue": "issue-mismatch", "volume": "volume-mismatch",
                 "pages": "pages-mismatch", "year": "year-mismatch", "doi": "doi-mismatch"}
WITHHELD_EVERY = 5


@dataclass(frozen=True, slots=True)
class Case:
    kind: str  # "clean", "inject-FIELD", "nodoi"
    style: str
    doi: str  # the record rendered
    expected: str | None  # nodoi: the DOI a right answer suggests (None: suggest nothing)
    text: str


def _bump(value: str) -> str | None:
    """A different but plausible number for an injected error ("8" -> "9", "e33693" -> ...)."""
    digits = "".join(ch for ch in value if ch.isdigit())
    if not digits or len(digits) != len(value.strip()):
        return None
    return str(int(digits) + 1)


def _pages_bumped(pages: str) -> str | None:
    parts = pages.replace("–", "-").split("-")
    try:
        numbers = [int(p) for p in parts]
    except ValueError:
        return None
    return "-".join(str(n + 3) for n in numbers)


def _injected(item: dict[str, Any], field: str, years: set[int], other_doi: str
              ) -> dict[str, Any] | None:
    changed = dict(item)
    if field in ("issue", "volume"):
        value = _bump(str(item.get(field) or ""))
        if value is None:
            return None
        changed[field] = value
    elif field == "pages":
        value = _pages_bumped(str(item.get("page") or ""))
        if value is None:
            return None
        changed["page"] = value
    elif field == "year":
        year = item["issued"]["date-parts"][0][0]
        wrong = next(y for y in (year + 2, year - 2, year + 3) if y not in years)
        changed["issued"] = {"date-parts": [[wrong]]}
    else:
        changed["DOI"] = other_doi
    return changed


def _with_doi(text: str, doi: str) -> str:
    if doi.lower() in text.lower():
        return text
    return f"{text.rstrip()} https://doi.org/{doi}"


def _registered_years(message: dict[str, Any]) -> set[int]:
    years = set()
    for key in ("issued", "published-print", "published-online", "published"):
        with contextlib.suppress(KeyError, IndexError, TypeError, ValueError):
            years.add(int(message[key]["date-parts"][0][0]))
    return years


def build_cases(style_count: int, seed: int = 7, dev: bool = False
                ) -> tuple[list[Case], list[str], set[str]]:
    """(cases, styles used, withheld DOIs). `dev`: the validation styles and the training records
    instead of the held-out ones, for developing the checks without looking at the test data."""
    split = load_split()
    records = load_records()
    style_names = split["styles"]["validation" if dev else "test"]
    test_dois = [d for d in split["records"]["train" if dev else "test"] if d in records
                 and usable(records[d]) and kind_of(records[d]) in ("article", "chapter")]
    withheld = {d for d in test_dois
                if int(hashlib.sha256(d.encode()).hexdigest(), 16) % WITHHELD_EVERY == 0}
    rng = random.Random(seed)
    cases: list[Case] = []
    styles: list[str] = []
    for style in style_names:
        if len(styles) == style_count:
            break
        try:
            render(style, csl_item(records[test_dois[0]]))
        except Exception:
            continue
        styles.append(style)
        for doi in test_dois:
            message = records[doi]
            try:
                text, spans = render(style, csl_item(message, doi=False))
            except Exception:
                continue
            printed = {label for label, _, _ in spans}
            if doi in withheld:
                cases.append(Case("nodoi-withheld", style, doi, None, text))
                continue
            cases.append(Case("nodoi", style, doi, doi, text))
            item = csl_item(message)
            clean, _ = render(style, item)
            cases.append(Case("clean", style, doi, None, _with_doi(clean, doi)))
            others = [d for d in test_dois if d != doi and d not in withheld]
            for field in INJECTIONS:
                label = {"year": "date"}.get(field, field)
                if field != "doi" and label not in printed and not (
                        field == "year" and str(item["issued"]["date-parts"][0][0]) in clean):
                    continue
                other = rng.choice(others)
                changed = _injected(item, field, _registered_years(message), other)
                if changed is None:
                    continue
                try:
                    wrong, _ = render(style, changed)
                except Exception:
                    continue
                if wrong == clean:
                    continue
                cases.append(Case(f"inject-{field}", style, doi, None,
                                  _with_doi(wrong, changed.get("DOI", doi))))
    return cases, styles, withheld


def _check_one(style: str, cases: list[Case], sim: CrossrefSimulator, folder: Path
               ) -> tuple[dict[str, Any], dict[int, Case]]:
    """One style's reference list through `evidence check`; (report, line -> case)."""
    folder.mkdir()
    lines: dict[int, Case] = {}
    with (folder / "references.txt").open("w", encoding="utf-8") as handle:
        line = 1
        for case in cases:
            handle.write(" ".join(case.text.split()) + "\n\n")
            lines[line] = case
            line += 2
    # The polite pool (a mailto): Crossref paces searches at 3/s there, 1/s without.
    done = run_cli(["check", "references.txt", "--format", "json", "--output", "report.json",
                    "--no-urls", "--mailto", "benchmark@example.org"],
                   cli_env(sim, folder / "cache"), folder)
    if done.code not in (0, 1, 4):
        raise SystemExit(f"evidence check failed on {style} ({done.code}): {done.stderr}")
    return json.loads((folder / "report.json").read_text(encoding="utf-8")), lines


def run(style_count: int) -> dict[str, Any]:
    from concurrent.futures import ThreadPoolExecutor

    cases, styles, withheld = build_cases(style_count)
    by_style: dict[str, list[Case]] = defaultdict(list)
    for case in cases:
        by_style[case.style].append(case)
    with tempfile.TemporaryDirectory() as tmp, CrossrefSimulator(
        rate_limit=500, concurrency=50, polite_rate_limit=500, polite_concurrency=50,
        list_rate_limit=500, polite_list_rate_limit=500,
    ) as sim:
        for doi in withheld:
            sim.remove_record(doi)
        started = time.perf_counter()
        # One run per style, several at once: each run waits on Crossref's search pacing, not
        # on the processor, and the verdicts are what is measured here, not the speed.
        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(
                lambda style: _check_one(style, by_style[style], sim, Path(tmp) / style),
                styles))
        seconds = time.perf_counter() - started
    report = {"references": [ref for answer, _ in answers for ref in answer["references"]]}
    lines = {}
    for answer, style_lines in answers:
        for ref in answer["references"]:
            lines[id(ref)] = style_lines[ref["source"]["line"]]
    return score(report, lines, styles, seconds, len(withheld))


def score(report: dict[str, Any], cases: dict[int, Case], styles: list[str], seconds: float,
          withheld: int) -> dict[str, Any]:
    """Tally each reference's outcome; `cases` maps id(reference dict) to its case."""
    tally: dict[str, Counter[str]] = defaultdict(Counter)
    per_style: dict[str, Counter[str]] = defaultdict(Counter)
    examples: dict[str, list[str]] = defaultdict(list)
    for ref in report["references"]:
        case = cases[id(ref)]
        codes = [f["code"] for f in ref["findings"]]
        alarms = [f["code"] for f in ref["findings"]
                  if f["severity"] in ("warning", "error") and f["code"] not in NOTICE_CODES]
        if case.kind == "clean":
            outcome = "false alarm" if alarms else (
                "unverifiable" if ref["status"] == "unverifiable" else "ok")
        elif case.kind.startswith("inject-"):
            expected = EXPECTED_CODE[case.kind.removeprefix("inject-")]
            outcome = "found" if expected in codes else "missed"
        else:
            suggested = [f.get("suggestion") for f in ref["findings"]
                         if f["code"] == "doi-suggested"]
            if suggested and suggested[0] != case.expected:
                outcome = "wrong DOI"
            elif suggested:
                outcome = "matched"
            elif case.expected is None:
                outcome = "rightly unmatched"
            else:
                outcome = "not matched"
        tally[case.kind][outcome] += 1
        per_style[case.style][f"{case.kind}:{outcome}"] += 1
        if outcome in ("false alarm", "missed", "wrong DOI", "not matched") and \
                len(examples[f"{case.kind}:{outcome}"]) < 6:
            examples[f"{case.kind}:{outcome}"].append(
                f"[{case.style}] {ref['raw'][:220]} -> {codes}")
    return {"tally": tally, "per_style": per_style, "examples": examples, "styles": styles,
            "seconds": seconds, "references": len(report["references"]), "withheld": withheld}


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.2f}%" if whole else "n/a"


def figures(result: dict[str, Any]) -> list[str]:
    tally = result["tally"]
    clean = tally["clean"]
    clean_total = sum(clean.values())
    injected = {k: v for k, v in tally.items() if k.startswith("inject-")}
    found = sum(v["found"] for v in injected.values())
    injected_total = sum(sum(v.values()) for v in injected.values())
    nodoi, withheld = tally["nodoi"], tally["nodoi-withheld"]
    held = sum(nodoi.values())
    suggestions = nodoi["matched"] + nodoi["wrong DOI"] + withheld["wrong DOI"]
    lines = [
        f"- {result['references']} references in {len(result['styles'])} held-out CSL styles "
        f"({', '.join(result['styles'])}); one `evidence check` run per style, eight at once, "
        f"{result['seconds']:.0f} s in all",
        f"- clean references with a DOI: {clean['false alarm']} false alarms of {clean_total} "
        f"({_pct(clean['false alarm'], clean_total)}); {clean['unverifiable']} unverifiable",
        f"- injected errors found under the right code: {found} of {injected_total} "
        f"({_pct(found, injected_total)})",
    ]
    for kind in sorted(injected):
        counts = injected[kind]
        total = sum(counts.values())
        lines.append(f"  - {kind.removeprefix('inject-')}: {counts['found']} of {total} "
                     f"({_pct(counts['found'], total)})")
    lines += [
        f"- without a DOI: {nodoi['matched']} of {held} references to held works matched "
        f"(recall {_pct(nodoi['matched'], held)}); "
        f"{nodoi['wrong DOI'] + withheld['wrong DOI']} wrong DOIs of {suggestions} suggestions "
        f"(precision {_pct(nodoi['matched'], suggestions)}); "
        f"{withheld['rightly unmatched']} of {sum(withheld.values())} references to the "
        f"{result['withheld']} works withheld from the simulator rightly got no suggestion",
    ]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--styles", type=int, default=24)
    parser.add_argument("--write", action="store_true", help=f"write {RESULTS.name}")
    parser.add_argument("--examples", action="store_true", help="print failing examples")
    args = parser.parse_args()
    result = run(args.styles)
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = ["# References in held-out CSL styles, end to end", "",
             f"Measured {stamp} on {machine()} with `python benchmarks/styles_e2e.py "
             f"--styles {args.styles}` (also `python benchmarks/run.py styles`).", "",
             __doc__.split("\n\n", 1)[1].split("\n\n    python")[0].strip(), "",
             *figures(result)]
    print("\n".join(lines))
    if args.examples:
        for key, texts in result["examples"].items():
            print(f"\n{key}:")
            for text in texts:
                print(f"  {text}")
    if args.write:
        RESULTS.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
