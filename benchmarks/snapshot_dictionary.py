"""Make the snapshot's record dictionary: python benchmarks/snapshot_dictionary.py [--check]

Trains zstd's 16 KB dictionary (evidence_cli/snapshot/records.zdict) on the 431 real Crossref
records of ../shared/crossref/works.jsonl, slimmed and encoded as the snapshot build packs them,
and prints what it does on real records it was not trained on (half of them held out: trained
on the other half). The shipped file is trained on all 431. Never replace records.zdict in place
with another dictionary under the same id: snapshots built with it would not read (packing.py).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from evidence_cli.services.crossref_records import slim_record  # noqa: E402
from evidence_cli.snapshot import packing  # noqa: E402
from evidence_cli.snapshot.rows import dumps  # noqa: E402

WORKS = ROOT.parent / "shared" / "crossref" / "works.jsonl"
SIZE = 16 * 1024


def records() -> list[bytes]:
    out = []
    for line in WORKS.read_text(encoding="utf-8").splitlines():
        message = json.loads(line)["message"]
        out.append(dumps(slim_record(message)).encode("utf-8"))
    return out


def train(samples: list[bytes]) -> bytes:
    import zstandard

    return zstandard.train_dictionary(SIZE, samples, dict_id=packing.DICTIONARY_ID,
                                      threads=0).as_bytes()


def held_out_figures(all_records: list[bytes]) -> str:
    import zstandard
    from isal.isal_zlib import compress

    shuffled = list(all_records)
    random.Random(18).shuffle(shuffled)
    half = len(shuffled) // 2
    trained, held = shuffled[:half], shuffled[half:]
    dictionary = zstandard.ZstdCompressionDict(train(trained))
    packer = zstandard.ZstdCompressor(level=1, dict_data=dictionary, write_checksum=False,
                                      write_content_size=True, write_dict_id=True)
    rounds = 200
    start = time.process_time()
    for _ in range(rounds):
        zstd_size = sum(len(packer.compress(r)) for r in held)
    zstd_us = (time.process_time() - start) / rounds / len(held) * 1e6
    start = time.process_time()
    for _ in range(rounds):
        zlib_size = sum(len(compress(r, 1)) for r in held)
    zlib_us = (time.process_time() - start) / rounds / len(held) * 1e6
    raw = sum(map(len, held))
    return (f"{len(held)} held-out real records, {raw / len(held):.0f} bytes each: zstd with a "
            f"dictionary of the other {half} {zstd_size / raw:.3f} of their size, "
            f"{zstd_us:.1f} µs a record; isal's zlib level 1 {zlib_size / raw:.3f}, "
            f"{zlib_us:.1f} µs (ratio {zstd_size / zlib_size:.2f})")


def main(argv: list[str] | None = None) -> int:
    arguments = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    arguments.add_argument("--check", action="store_true",
                           help="do not write: say whether the shipped file is what training "
                                "gives")
    options = arguments.parse_args(argv)
    all_records = records()
    print(held_out_figures(all_records))
    made = train(all_records)
    target = ROOT / "evidence_cli" / "snapshot" / packing.DICTIONARY_FILE
    if options.check:
        same = target.exists() and target.read_bytes() == made
        print(f"{target}: {'as trained' if same else 'differs from training'}")
        return 0 if same else 1
    target.write_bytes(made)
    print(f"wrote {target} ({len(made):,} bytes, id {packing.DICTIONARY_ID:#x})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
