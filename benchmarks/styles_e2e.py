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

For development, never written and never on the held-out styles or records: `--dev` (the
validation styles x the validation records: training-side records the parser never saw),
`--dev --dev-styles train --styles 60` (training styles picked with a fixed seed, numeric,
author-date and note in turn, x the validation records),
and `--degrade` (each reference also as people type it: no year, the journal abbreviated,
first-name-first authors, "et al." after the first author, no issue, a typo in one title word;
without the DOI, and where it is no error also with it).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import hashlib
import json
import random
import re
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, CrossrefSimulator, cli_env, machine, run_cli
from refparse_data import (
    csl_item,
    kind_of,
    load_records,
    load_split,
    records_of,
    render,
    typo,
    usable,
)

RESULTS = ROOT / "benchmarks" / "results" / "styles.md"
# The record's own notices: true of the work, not alarms about the citation.
NOTICE_CODES = frozenset({"retracted", "corrected", "expression-of-concern", "withdrawn",
                          "updated", "removed", "update-notice", "published-version-available"})
INJECTIONS = ("issue", "volume", "pages", "year", "doi")
EXPECTED_CODE = {"issue": "issue-mismatch", "volume": "volume-mismatch",
                 "pages": "pages-mismatch", "year": "year-mismatch", "doi": "doi-mismatch"}
WITHHELD_EVERY = 5
# How people type references that a style did not render: each (style, record) gets one, in turn.
DEGRADATIONS = ("no-year", "short-journal", "given-first", "et-al", "no-issue", "title-typo")
# The ones that are no error in a reference that gives its DOI (a misspelt title word is one).
HARMLESS = frozenset(DEGRADATIONS) - {"title-typo"}


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


def _degraded_item(item: dict[str, Any], how: str, rng: random.Random) -> dict[str, Any] | None:
    """The CSL item as someone might type the reference (None: this record has nothing to drop)."""
    changed = dict(item)
    if how == "no-year":
        changed.pop("issued", None)
    elif how == "short-journal":
        short = item.get("container-title-short")
        if not short or short == item.get("container-title"):
            return None
        changed["container-title"] = short
    elif how == "given-first":
        # Literal names print as typed, whatever order the style puts names in.
        changed["author"] = [{"literal": f"{a['given']} {a['family']}".strip()}
                             for a in item.get("author") or []]
    elif how == "et-al":
        if len(item.get("author") or []) < 3:
            return None
        changed["author"] = item["author"][:1]
    elif how == "no-issue":
        if "issue" not in item:
            return None
        changed.pop("issue")
    elif how == "title-typo":
        words = str(item.get("title") or "").split(" ")
        long = [i for i, w in enumerate(words) if len(w) > 4 and w.isalpha()]
        if not long:
            return None
        pick = rng.choice(long)
        words[pick] = typo(words[pick], rng)
        changed["title"] = " ".join(words)
    return changed


# citeproc-py drops the month of "2021 Jun 28" in some styles and prints the day alone.
_DAY_WITHOUT_MONTH = re.compile(r"\b\d{4} \d{1,2}\b")


def _glued(text: str, spans: tuple[tuple[str, int, int], ...]) -> bool:
    """A rendering no one would type: a field that runs into the next word or number
    ("Engineering Structures. 175282–294" for volume 175, pages 282–294, "EngineeringElsevier
    BV": a style that omits the issue or a delimiter and, with it, the separator), or a date
    that is a year and a day without its month ("2021 28;16:e0253763"). No reader could tell
    those numbers apart either."""
    return any(
        (end < len(text) and text[end].isalnum() and text[end - 1].isalnum()) or
        (0 < start < len(text) and text[start - 1].isalnum() and text[start].isalnum()) or
        (label in ("date", "year") and _DAY_WITHOUT_MONTH.search(text[start:end]))
        for label, start, end in spans)


def _render_degraded(style: str, item: dict[str, Any], how: str) -> str | None:
    try:
        text, spans = render(style, item)
    except Exception:
        return None
    if _glued(text, spans):
        return None
    if how == "et-al":
        ends = [end for label, _, end in spans if label == "author"]
        if not ends:
            return None
        rest = text[ends[0]:]
        text = f"{text[:ends[0]]} et al{'' if rest.startswith('.') else '.'}{rest}"
    return text


def style_names_for(split: dict[str, Any], dev: bool, dev_styles: str, seed: int) -> list[str]:
    """The styles a run renders through. Training styles: shuffled with the seed, then taken
    numeric, author-date, note (and any other format) in turn, so a sample of any size mixes
    them."""
    if not dev:
        return list(split["styles"]["test"])
    if dev_styles == "validation":
        return list(split["styles"]["validation"])
    names = list(split["styles"]["train"])
    random.Random(seed).shuffle(names)
    formats = split["styles"]["format"]
    by_format: dict[str, list[str]] = defaultdict(list)
    for name in names:
        by_format[formats.get(name, "unknown")].append(name)
    main_formats = ("numeric", "author-date", "note")
    order = [*main_formats, *sorted(f for f in by_format if f not in main_formats)]
    mixed: list[str] = []
    while any(by_format[f] for f in order):
        mixed += [by_format[f].pop(0) for f in order if by_format[f]]
    return mixed


def build_cases(style_count: int, seed: int = 7, dev: bool = False, dev_styles: str = "validation",
                degrade: bool = False, skip: int = 0) -> tuple[list[Case], list[str], set[str]]:
    """(cases, styles used, withheld DOIs). `dev`: the validation (or, `dev_styles="train"`, a
    seeded sample of the training) styles and the training records instead of the held-out
    ones, for developing the checks without looking at the test data. `degrade` (dev only):
    each reference also in one of DEGRADATIONS, in turn. `skip` (dev only): leave out the
    first styles of the order, to develop on styles not yet looked at."""
    if degrade and not dev:
        raise ValueError("degraded variants are a development tool: only with dev")
    split = load_split()
    records = load_records()
    if skip and not dev:
        raise ValueError("skipping styles is a development tool: only with dev")
    style_names = style_names_for(split, dev, dev_styles, seed)[skip:]
    # Development uses the validation records, which the parser was not trained on (the training
    # records' titles it had seen dozens of times, so they made every check look perfect).
    part = ("validation" if split["records"].get("validation") else "train") if dev else "test"
    test_dois = [d for d in records_of(split, part) if d in records
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
        for number, doi in enumerate(test_dois):
            message = records[doi]
            try:
                text, spans = render(style, csl_item(message, doi=False))
            except Exception:
                continue
            printed = {label for label, _, _ in spans}
            if dev and _glued(text, spans):
                # Development figures: an unreadable rendering says nothing about the checks.
                continue
            if degrade:
                how = DEGRADATIONS[(len(styles) + number) % len(DEGRADATIONS)]
                changed = _degraded_item(csl_item(message), how, rng)
                worse = changed and _render_degraded(style, {
                    k: v for k, v in changed.items() if k != "DOI"}, how)
                if changed and worse and worse != text:
                    expected = None if doi in withheld else doi
                    kind = "nodoi-withheld" if doi in withheld else "nodoi"
                    cases.append(Case(f"{kind}~{how}", style, doi, expected, worse))
                    if how in HARMLESS and doi not in withheld:
                        typed = _render_degraded(style, changed, how)
                        if typed:
                            cases.append(Case(f"clean~{how}", style, doi, None,
                                              _with_doi(typed, doi)))
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
                    wrong, wrong_spans = render(style, changed)
                except Exception:
                    continue
                if wrong == clean or (dev and _glued(wrong, wrong_spans)):
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
    # Exit 1 is also a crash's code: a run without its report failed, whatever it exited with.
    if done.code not in (0, 1, 4) or not (folder / "report.json").exists():
        raise SystemExit(f"evidence check failed on {style} ({done.code}): {done.stderr}")
    return json.loads((folder / "report.json").read_text(encoding="utf-8")), lines


def run(style_count: int, dev: bool = False, dev_styles: str = "validation",
        degrade: bool = False, skip: int = 0, seed: int = 7) -> dict[str, Any]:
    from concurrent.futures import ThreadPoolExecutor

    cases, styles, withheld = build_cases(style_count, seed=seed, dev=dev,
                                          dev_styles=dev_styles, degrade=degrade, skip=skip)
    by_style: dict[str, list[Case]] = defaultdict(list)
    for case in cases:
        by_style[case.style].append(case)
    # A style every rendering of which was set aside (development skips unreadable ones) has
    # no reference list to check: its empty file would only give a `no-references` finding.
    styles = [style for style in styles if by_style[style]]
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
    result = score(report, lines, styles, seconds, len(withheld))
    result["which"] = f"{dev_styles} (dev)" if dev else "held-out"
    return result


def score(report: dict[str, Any], cases: dict[int, Case], styles: list[str], seconds: float,
          withheld: int) -> dict[str, Any]:
    """Tally each reference's outcome; `cases` maps id(reference dict) to its case."""
    tally: dict[str, Counter[str]] = defaultdict(Counter)
    per_style: dict[str, Counter[str]] = defaultdict(Counter)
    examples: dict[str, list[str]] = defaultdict(list)
    failures: list[dict[str, Any]] = []
    for ref in report["references"]:
        case = cases[id(ref)]
        codes = [f["code"] for f in ref["findings"]]
        alarms = [f["code"] for f in ref["findings"]
                  if f["severity"] in ("warning", "error") and f["code"] not in NOTICE_CODES]
        if case.kind.startswith("clean"):
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
        if outcome in ("false alarm", "missed", "wrong DOI", "not matched"):
            failures.append({"kind": case.kind, "outcome": outcome, "style": case.style,
                             "doi": case.doi, "raw": ref["raw"], "codes": codes})
        if outcome in ("false alarm", "missed", "wrong DOI", "not matched") and \
                len(examples[f"{case.kind}:{outcome}"]) < 6:
            examples[f"{case.kind}:{outcome}"].append(
                f"[{case.style}] {ref['raw'][:220]} -> {codes}")
    return {"tally": tally, "per_style": per_style, "examples": examples, "failures": failures,
            "styles": styles,
            "seconds": seconds, "references": len(report["references"]), "withheld": withheld}


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.2f}%" if whole else "n/a"


def figures(result: dict[str, Any]) -> list[str]:
    tally = _merged(result["tally"])
    clean = tally["clean"]
    clean_total = sum(clean.values())
    injected = {k: v for k, v in tally.items() if k.startswith("inject-")}
    found = sum(v["found"] for v in injected.values())
    injected_total = sum(sum(v.values()) for v in injected.values())
    nodoi, withheld = tally["nodoi"], tally["nodoi-withheld"]
    held = sum(nodoi.values())
    suggestions = nodoi["matched"] + nodoi["wrong DOI"] + withheld["wrong DOI"]
    lines = [
        f"- {result['references']} references in {len(result['styles'])} "
        f"{result.get('which', 'held-out')} CSL styles "
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
    degraded = sorted(k for k in result["tally"] if "~" in k)
    if degraded:
        lines.append("- degraded variants (development only):")
        for kind in degraded:
            counts = result["tally"][kind]
            lines.append(f"  - {kind}: " + ", ".join(f"{n} {o}" for o, n in sorted(counts.items())))
    return lines


def _merged(tally: dict[str, Counter[str]]) -> dict[str, Counter[str]]:
    """Each kind with its degraded variants ("nodoi~no-year") counted in."""
    merged: dict[str, Counter[str]] = defaultdict(Counter)
    for kind, counts in tally.items():
        merged[kind.split("~")[0]].update(counts)
    return merged


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--styles", type=int, default=24)
    parser.add_argument("--write", action="store_true", help=f"write {RESULTS.name}")
    parser.add_argument("--examples", action="store_true", help="print failing examples")
    parser.add_argument("--dev", action="store_true",
                        help="validation styles x validation records (development; not written)")
    parser.add_argument("--dev-styles", choices=("validation", "train"), default="validation",
                        help="with --dev: the validation styles, or a seeded mix of the training "
                             "styles")
    parser.add_argument("--degrade", action="store_true",
                        help="with --dev: each reference also as people type it")
    parser.add_argument("--skip-styles", type=int, default=0,
                        help="with --dev: leave out the first styles of the development order")
    parser.add_argument("--seed", type=int, default=7,
                        help="with --dev: another seed for the training styles' order, the "
                             "errors injected and the degradations (fresh development cases "
                             "once every training style has been looked at)")
    parser.add_argument("--failures", type=Path,
                        help="with --dev: write every failing reference there (JSON lines)")
    args = parser.parse_args()
    if args.failures and not args.dev:
        parser.error("--failures is a development option: it needs --dev")
    if (args.degrade or args.dev_styles != "validation" or args.skip_styles
            or args.seed != 7) and not args.dev:
        parser.error("--dev-styles, --degrade, --skip-styles and --seed are development options: "
                     "they need --dev")
    if args.dev and args.write:
        parser.error("--dev figures are for development: they are never written")
    result = run(args.styles, dev=args.dev, dev_styles=args.dev_styles, degrade=args.degrade,
                 skip=args.skip_styles, seed=args.seed)
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    command = " ".join(sys.argv[1:]) if args.dev else f"--styles {args.styles}"
    lines = ["# References in held-out CSL styles, end to end", "",
             f"Measured {stamp} on {machine()} with `python benchmarks/styles_e2e.py "
             f"{command}` (also `python benchmarks/run.py styles`).", "",
             __doc__.split("\n\n", 1)[1].split("\n\n    python")[0].strip(), "",
             *figures(result)]
    print("\n".join(lines))
    if args.failures:
        with args.failures.open("w", encoding="utf-8") as handle:
            handle.writelines(json.dumps(f) + "\n" for f in result["failures"])
    if args.examples:
        for key, texts in result["examples"].items():
            print(f"\n{key}:")
            for text in texts:
                print(f"  {text}")
    if args.write:
        RESULTS.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
