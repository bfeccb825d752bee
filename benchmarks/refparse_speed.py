"""CPU time the reference parser takes per reference (`python benchmarks/refparse_speed.py`).

The references: anystyle-core.xml's, then Crossref records rendered in the held-out CSL styles
with the degradations of refparse_data.py, the first COUNT distinct texts. Each figure is the best
of three passes over them in this process, the parser's memo of whole parses emptied before each
(the features of words seen before are reused, as in any longer run): one reference at a time
(parse_labelled), then all of them in one call (parse_many, as the readers parse a list). Run
the same command on the code to compare with, side by side: the machine is shared and CPU times
move with its load.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.refparse_data import (  # noqa: E402
    SyntheticOptions,
    load_anystyle,
    load_records,
    load_split,
    synthetic,
)
from evidence_cli.sources.refparser import parser  # noqa: E402


def references(count: int) -> list[str]:
    split = load_split()
    texts = [ref.text for ref in load_anystyle()]
    if len(set(texts)) < count:
        rendered = synthetic(load_records(), split["records"]["test"], split["styles"]["test"],
                             SyntheticOptions(per_style=30, variants=True, seed=101))
        texts += [ref.text for ref in rendered]
    return list(dict.fromkeys(texts))[:count]


def cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


def main(argv: list[str] | None = None) -> int:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--count", type=int, default=2000)
    args = options.parse_args(argv)
    texts = references(args.count)
    parser.parse_labelled("Smith J. A title. Nature. 2001;1:2-3.")  # the model loaded
    if os.environ.get("NOGC"):
        import gc
        gc.disable()
    best = float("inf")
    for _ in range(3):
        clear = getattr(parser, "clear_memo", None)  # the code before #12 had no memo
        if clear is not None:
            clear()
        started = cpu_seconds()
        for text in texts:
            parser.parse_labelled(text)
        best = min(best, cpu_seconds() - started)
    print(f"{len(texts):,} references: {1000 * best / len(texts):.3f} ms CPU a reference "
          f"(best of 3), {len(texts) / best:,.0f} references/s")
    # Parsed together, as the readers hand a whole reference list to the parser (#12); the code
    # before had no parse_many.
    many = getattr(parser, "parse_many", None)
    if many is not None:
        best = float("inf")
        for _ in range(3):
            parser.clear_memo()
            started = cpu_seconds()
            many(texts)
            best = min(best, cpu_seconds() - started)
        print(f"{len(texts):,} references parsed together: {1000 * best / len(texts):.3f} ms "
              f"CPU a reference (best of 3), {len(texts) / best:,.0f} references/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
