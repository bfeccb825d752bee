"""The README's promises: the offline Quickstart example works, and every finding code is listed."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from evidence_cli.codes import CODES

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _offline_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVIDENCE_")}
    # Nothing may be reachable: the committed cache must answer everything. (The Crossref URL
    # stays the default: cached answers are keyed by the service that gave them, issue 14, so
    # another URL would find none of them; a dead proxy catches any request instead.)
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        env[name] = "http://127.0.0.1:9"
    env.pop("NO_PROXY", None)
    env.pop("no_proxy", None)
    return env


def test_quickstart_example_answers_offline_from_the_committed_cache() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "evidence_cli", "check", "reviews/newsletter-references.bib",
         "--offline", "--format", "json"],
        cwd=ROOT, env=_offline_env(), capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    assert report["summary"] == {"references": 7, "ok": 2, "info": 2, "warning": 2, "error": 1,
                                 "unverifiable": 0}
    by_id = {ref["id"]: ref for ref in report["references"]}
    issue = by_id["boulkedid2011delphi"]["findings"]
    assert [(f["code"], f["cited"], f["registered"]) for f in issue] == [
        ("issue-mismatch", "5", "6")]
    pages = by_id["lee2012umbilical"]["findings"]
    assert [(f["code"], f["registered"]) for f in pages] == [("pages-mismatch", "588-602")]
    mismatch = by_id["muir2000cerebral"]["findings"][0]
    assert mismatch["code"] == "doi-mismatch"
    assert mismatch["suggestion"] == "10.1046/j.1399543x.2000.010407.x"
    assert [f["code"] for f in by_id["sadasivan2012methylphenidate"]["findings"]] == ["corrected"]
    suggested = by_id["davitkov2016treatment"]
    assert suggested["doi"] == "10.1371/journal.pone.0163945"
    assert [f["code"] for f in suggested["findings"]] == ["doi-suggested"]
    assert by_id["gill2012clients"]["status"] == "ok"
    assert by_id["funaba2014subsequent"]["status"] == "ok"


def test_quickstart_commands_are_the_ones_ci_runs() -> None:
    commands = re.findall(r"```sh\n(.+?)\n```", README.split("## Quickstart", 1)[1],
                          flags=re.S)[:2]
    assert commands[0] == ("pip install . && evidence check reviews/newsletter-references.bib "
                           "--offline")
    assert commands[1] == "pip install -e '.[test]' && python -m pytest"
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "python3 -m pytest" in ci and "-e '.[test]'" in ci


def test_readme_lists_every_finding_code_with_its_severity() -> None:
    for code, info in CODES.items():
        row = re.search(rf"^\| `{re.escape(code)}` \| (\w+) \|", README, flags=re.M)
        assert row, f"{code} missing from the README's table"
        # The JSON report's severity (issue 14): "unverifiable" is a status, not a severity.
        assert row.group(1) == info.severity.value, code
