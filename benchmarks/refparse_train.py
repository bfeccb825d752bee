"""Rebuild the reference parser's model from the data: python benchmarks/refparse_train.py

Builds the training set (the training side of benchmarks/refparse_split.json: anystyle-core.xml
less its test and validation parts, and Crossref training records, less the validation records,
rendered in the training CSL styles with degraded variants; half of the chapters given a title
and book of anystyle's training references), trains python-crfsuite's CRF, writes
evidence_cli/sources/refparser/model.crfsuite, then chooses each field's confidence threshold on
the validation data (anystyle's validation part, and the validation records rendered in the
validation styles: records the model never saw, in styles it never saw) and writes model.json
(thresholds, lexicon, counts, date). Nothing from the test side is read.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for _path in (str(ROOT), str(ROOT / "benchmarks")):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from refparse_data import (  # noqa: E402
    SPLIT_FILE,
    Labelled,
    SyntheticOptions,
    load_anystyle,
    load_records,
    load_split,
    pools,
    records_of,
    synthetic,
    token_labels,
)
from refparse_eval import choose_thresholds, score, summary, table  # noqa: E402

from evidence_cli.sources.refparser import parser  # noqa: E402
from evidence_cli.sources.refparser.features import featurize  # noqa: E402

PACKAGE = ROOT / "evidence_cli" / "sources" / "refparser"
ANYSTYLE_REPEAT = 5  # the real references weigh as much as ~5,000 rendered ones


def lexicon_of(sequences: list[tuple[list[str], list[str]]], minimum: int = 4
               ) -> dict[str, list[str]]:
    """Word (lower case) → its lexicon features: "lex=L" for each label L it carries in at least
    a quarter of its training occurrences, "top=L" for one it carries in three quarters."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for words, labels in sequences:
        for word, label in zip(words, labels, strict=True):
            if word[0].isalpha() and len(word) < 25:
                counts[word.lower()][label] += 1
    out = {}
    for word, by_label in counts.items():
        total = sum(by_label.values())
        if total < minimum:
            continue
        features = [f"lex={label}" for label, n in by_label.most_common() if n / total >= 0.25]
        label, top = by_label.most_common(1)[0]
        if top / total >= 0.75:
            features.append(f"top={label}")
        out[word] = features
    return dict(sorted(out.items()))


def main(argv: list[str] | None = None) -> int:
    arguments = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    arguments.add_argument("--per-style", type=int, default=12)
    arguments.add_argument("--c1", type=float, default=0.05)
    arguments.add_argument("--c2", type=float, default=0.01)
    arguments.add_argument("--iterations", type=int, default=300)
    arguments.add_argument("--precision", type=float, default=0.97,
                           help="precision each field's threshold must reach on validation")
    arguments.add_argument("--real-weight", type=int, default=2,
                           help="how many times each anystyle validation prediction counts "
                                "against one rendered one when thresholds are chosen")
    arguments.add_argument("--swap", type=float, default=0.5,
                           help="share of rendered training chapters given a title and a book "
                                "of anystyle training references")
    arguments.add_argument("--thresholds-only", action="store_true",
                           help="keep the trained model; choose the thresholds again")
    options = arguments.parse_args(argv)
    started = time.monotonic()
    split = load_split()
    anystyle = load_anystyle()
    held = set(split["anystyle"]["test"]) | set(split["anystyle"]["validation"])
    any_train = [r for i, r in enumerate(anystyle) if i not in held]
    any_val = [anystyle[i] for i in split["anystyle"]["validation"]]
    records = load_records()
    seed = split["seed"]
    titles, books = pools(any_train)
    train_refs = synthetic(records, records_of(split, "train"), split["styles"]["train"],
                           SyntheticOptions(per_style=options.per_style, seed=seed,
                                            swap=options.swap, titles=titles, books=books))
    val_refs = synthetic(records, records_of(split, "validation"), split["styles"]["validation"],
                         SyntheticOptions(per_style=25, seed=seed + 1))
    if options.thresholds_only:
        metadata = json.loads((PACKAGE / parser.METADATA_FILE).read_text(encoding="utf-8"))
        _thresholds(metadata, any_val, val_refs, options.precision, options.real_weight)
        (PACKAGE / parser.METADATA_FILE).write_text(
            json.dumps(metadata, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        return 0
    print(f"training: {len(any_train)} anystyle × {ANYSTYLE_REPEAT} + {len(train_refs)} "
          f"rendered in {len(split['styles']['train'])} styles; validation: {len(any_val)} "
          f"anystyle + {len(val_refs)} rendered in {len(split['styles']['validation'])} styles "
          f"({time.monotonic() - started:.0f} s)", flush=True)

    labelled = [token_labels(r) for r in [*any_train, *train_refs]]
    lexicon = lexicon_of([([t.text for t in toks], labs) for toks, labs in labelled])
    import pycrfsuite

    trainer = pycrfsuite.Trainer(verbose=False)
    texts = [*any_train, *train_refs]
    for index, (ref, (tokens, labels)) in enumerate(zip(texts, labelled, strict=True)):
        if not tokens:
            continue
        xseq = featurize(ref.text, tokens, lexicon)
        for _ in range(ANYSTYLE_REPEAT if index < len(any_train) else 1):
            trainer.append(xseq, labels)
    trainer.set_params({"c1": options.c1, "c2": options.c2,
                        "max_iterations": options.iterations,
                        "feature.possible_transitions": True, "feature.minfreq": 2})
    model_path = PACKAGE / parser.MODEL_FILE
    trainer.train(str(model_path))
    print(f"trained in {time.monotonic() - started:.0f} s; model "
          f"{model_path.stat().st_size / 1e6:.2f} MB", flush=True)

    metadata_path = PACKAGE / parser.METADATA_FILE
    metadata = {"thresholds": {}, "lexicon": lexicon}
    metadata_path.write_text(json.dumps(metadata), encoding="utf-8")
    parser._metadata.cache_clear()
    parser._tagger.cache_clear()
    parser.clear_memo()  # parses made with the model before
    metadata = {
        "about": "The reference parser's CRF (model.crfsuite) and what it needs at run time. "
                 "Rebuilt by `python benchmarks/refparse_train.py`.",
        "trained": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "data": "anystyle-core.xml (inukshuk/anystyle, BSD 2-clause) and Crossref records "
                "rendered by citeproc-py; split: benchmarks/refparse_split.json",
        "split_sha256": hashlib.sha256(SPLIT_FILE.read_bytes()).hexdigest(),
        "counts": {"anystyle_train": len(any_train), "anystyle_repeat": ANYSTYLE_REPEAT,
                   "rendered_train": len(train_refs),
                   "styles_train": len(split["styles"]["train"]),
                   "anystyle_validation": len(any_val), "rendered_validation": len(val_refs),
                   "styles_validation": len(split["styles"]["validation"])},
        "swap": options.swap,
        "crf": {"algorithm": "lbfgs", "c1": options.c1, "c2": options.c2,
                "max_iterations": options.iterations, "feature.minfreq": 2},
        "lexicon": lexicon,
    }
    _thresholds(metadata, any_val, val_refs, options.precision, options.real_weight)
    metadata_path.write_text(json.dumps(metadata, indent=1, ensure_ascii=False) + "\n",
                             encoding="utf-8")
    print(f"wrote {model_path} and {metadata_path} ({time.monotonic() - started:.0f} s)")
    return 0


def _thresholds(metadata: dict[str, Any], any_val: list[Labelled], val_refs: list[Labelled],
                precision: float, weight: int) -> None:
    """Choose each field's threshold on the validation data and record it in `metadata`; each
    prediction on a real (anystyle) reference counts `weight` times."""
    path = PACKAGE / parser.METADATA_FILE
    path.write_text(json.dumps({**metadata, "thresholds": {}}), encoding="utf-8")
    parser._metadata.cache_clear()
    parser._tagger.cache_clear()
    parser.clear_memo()  # parses made with the model before
    counts_raw_any, seen_any, _ = score(any_val)
    counts_raw_val, seen_val, _ = score(val_refs)
    thresholds = choose_thresholds(seen_any * weight + seen_val, precision)
    counts_any, _, _ = score(any_val, thresholds)
    counts_val, _, per_ref = score(val_refs, thresholds)
    for name, counts in (("validation, no threshold: anystyle", counts_raw_any),
                         ("validation, no threshold: rendered", counts_raw_val),
                         ("validation: anystyle", counts_any),
                         ("validation: rendered", counts_val)):
        print(f"\n{name}")
        print("\n".join(table(counts)))
    print(f"\nthresholds: {thresholds}")
    metadata["threshold_precision"] = precision
    metadata["threshold_real_weight"] = weight
    metadata["thresholds"] = thresholds
    metadata["validation"] = {"lowest_recall_precision_anystyle": summary(counts_any),
                              "lowest_recall_precision_rendered": summary(counts_val),
                              "ms_per_reference": round(per_ref, 3)}
    parser._metadata.cache_clear()
    parser.clear_memo()  # parses made with the thresholds before


if __name__ == "__main__":
    raise SystemExit(main())
