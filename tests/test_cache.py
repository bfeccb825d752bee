"""SQLite answer cache: the store, --offline/--refresh, `evidence cache`, 8 processes at once."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from evidence_cli.services.cache import CACHE_FILE, Cache
from tests.conftest import RunEvidence
from tests.simulator import CrossrefSimulator

BIB = Path(__file__).parent / "fixtures" / "bib"
CLEAN = "10.5555/evidence-cli.clean"
UNKNOWN = "10.5555/evidence-cli.no-such-record"

# -- the store ------------------------------------------------------------------------------


def test_put_get_kinds_and_replace(tmp_path: Path) -> None:
    with Cache(tmp_path / "c") as cache:
        cache.put("work", CLEAN, {"outcome": "found", "record": {"DOI": CLEAN}}, 60)
        cache.put("search", CLEAN, ["other kind, same key"], 60)
        assert cache.get("work", CLEAN) == {"outcome": "found", "record": {"DOI": CLEAN}}
        assert cache.get("search", CLEAN) == ["other kind, same key"]
        assert cache.get("work", "10.1/none") is None
        cache.put("work", CLEAN, {"outcome": "not-found"}, 60)
        assert cache.get("work", CLEAN) == {"outcome": "not-found"}
        assert cache.get_many("work", [CLEAN, "10.1/none", CLEAN]) == {
            CLEAN: {"outcome": "not-found"}
        }
    assert (tmp_path / "c" / CACHE_FILE).is_file()


def test_expiry_and_allow_expired(tmp_path: Path) -> None:
    with Cache(tmp_path) as cache:
        cache.put("work", "10.1/old", {"outcome": "found"}, -1)
        cache.put("work", "10.1/new", {"outcome": "found"}, 3600)
        assert set(cache.get_many("work", ["10.1/old", "10.1/new"])) == {"10.1/new"}
        assert set(cache.get_many("work", ["10.1/old", "10.1/new"], allow_expired=True)) == {
            "10.1/old", "10.1/new"
        }
        assert cache.info()["entries"] == {"work": {"live": 1, "expired": 1}}
        assert cache.clear(expired_only=True) == 1
        assert cache.info()["entries"] == {"work": {"live": 1, "expired": 0}}


def test_many_keys_in_one_lookup(tmp_path: Path) -> None:
    keys = [f"10.5555/key.{i}" for i in range(1200)]  # more than one SQL chunk
    with Cache(tmp_path) as cache:
        cache.put_many("work", [(k, {"n": i}) for i, k in enumerate(keys)], 60)
        found = cache.get_many("work", keys)
    assert len(found) == 1200 and found[keys[1100]] == {"n": 1100}


def test_clear_by_kind_and_all(tmp_path: Path) -> None:
    with Cache(tmp_path) as cache:
        cache.put("work", "a", 1, 60)
        cache.put("url", "b", 2, 60)
        assert cache.clear("url") == 1
        assert cache.get("work", "a") == 1
        assert cache.clear() == 1
        assert cache.info()["entries"] == {}


def test_read_only_never_creates_or_writes(tmp_path: Path) -> None:
    folder = tmp_path / "absent"
    with Cache(folder, read_only=True) as cache:
        assert cache.get("work", CLEAN) is None
        cache.put("work", CLEAN, {"outcome": "found"}, 60)
    assert not folder.exists()
    with Cache(tmp_path) as cache:
        cache.put("work", CLEAN, {"outcome": "found"}, 60)
    with Cache(tmp_path, read_only=True) as cache:
        cache.put("work", "10.1/x", {"outcome": "found"}, 60)
        assert cache.get("work", CLEAN) == {"outcome": "found"}
        assert cache.get("work", "10.1/x") is None


def test_a_file_that_is_not_a_database_is_a_miss_with_a_hint(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Issue 14: a damaged cache is treated as a miss, with how to recover (tests/test_hardening2).
    (tmp_path / CACHE_FILE).write_bytes(b"not a database " * 100)
    with Cache(tmp_path) as cache:
        assert cache.problem is not None
        assert cache.get("work", CLEAN) is None
        cache.put("work", CLEAN, {"outcome": "found"}, 60)  # nothing written, no error
    assert "evidence cache clear" in capsys.readouterr().err


# -- through the command --------------------------------------------------------------------


def check(run_evidence: RunEvidence, *args: str) -> tuple[int, dict[str, str], str]:
    result = run_evidence("check", "refs.txt", "--no-urls", "--format", "json", *args)
    assert "Traceback" not in result.stderr, result.stderr
    report = json.loads(result.stdout)
    return result.returncode, {r["doi"]: r["status"] for r in report["references"]}, result.stderr


def test_offline_refresh_and_the_cache_commands(
    run_evidence: RunEvidence, tmp_path: Path, crossref_sim: CrossrefSimulator,
    evidence_env: dict[str, str],
) -> None:
    (tmp_path / "refs.txt").write_text(
        f"doi:{CLEAN}\ndoi:10.5555/evidence-cli.concern\ndoi:{UNKNOWN}\n", encoding="utf-8"
    )
    # Offline with an empty cache: every reference is unverifiable, nothing is asked.
    code, statuses, _ = check(run_evidence, "--offline")
    assert code == 4
    assert set(statuses.values()) == {"unverifiable"}
    assert crossref_sim.stats.requests == 0
    # Online, then offline from the cache: the same verdicts, no request.
    code, online, _ = check(run_evidence)
    assert online == {CLEAN: "ok", "10.5555/evidence-cli.concern": "warning", UNKNOWN: "error"}
    assert code == 1
    asked = crossref_sim.stats.requests
    works = {p for p in crossref_sim.stats.by_path if p.startswith("/works/")}
    assert works == {  # three works and the agency of the unknown DOI
        "/works/10.5555%2Fevidence-cli.clean", "/works/10.5555%2Fevidence-cli.concern",
        "/works/10.5555%2Fevidence-cli.no-such-record",
        "/works/10.5555%2Fevidence-cli.no-such-record/agency",
    }
    code, offline, _ = check(run_evidence, "--offline")
    assert offline == online and code == 1
    assert crossref_sim.stats.requests == asked
    # --refresh asks again (and stores the new answers).
    code, refreshed, _ = check(run_evidence, "--refresh")
    assert refreshed == online
    assert crossref_sim.stats.requests == 2 * asked

    # Records are kept long, a not-found only briefly.
    database = sqlite3.connect(Path(evidence_env["EVIDENCE_CACHE_DIR"]) / CACHE_FILE)
    # Keys name the answering service (the simulator) before the DOI.
    lifetimes = {key.rsplit(" ", 1)[-1]: ttl for key, ttl in database.execute(
        "SELECT key, expires_at - stored_at FROM answers WHERE kind = 'work'").fetchall()}
    (stored,) = database.execute("SELECT COUNT(*) FROM answers").fetchone()
    database.close()
    assert lifetimes[UNKNOWN] == pytest.approx(86400)
    assert lifetimes[CLEAN] == pytest.approx(30 * 86400)

    info = run_evidence("cache", "info")
    assert info.returncode == 0
    assert str(Path(evidence_env["EVIDENCE_CACHE_DIR"]) / CACHE_FILE) in info.stdout
    assert "work: 3 live, 0 expired" in info.stdout
    cleared = run_evidence("cache", "clear")
    assert cleared.returncode == 0 and f"removed {stored} cached answers" in cleared.stdout
    code, statuses, _ = check(run_evidence, "--offline")
    assert code == 4 and set(statuses.values()) == {"unverifiable"}


def test_cache_dir_option_wins_over_environment(
    run_evidence: RunEvidence, tmp_path: Path, evidence_env: dict[str, str]
) -> None:
    (tmp_path / "refs.txt").write_text(f"doi:{CLEAN}\n", encoding="utf-8")
    check(run_evidence, "--cache-dir", "elsewhere")
    assert (tmp_path / "elsewhere" / CACHE_FILE).is_file()
    with Cache(Path(evidence_env["EVIDENCE_CACHE_DIR"]), read_only=True) as cache:
        assert cache.get("work", CLEAN) is None
    info = run_evidence("cache", "info", "--cache-dir", "elsewhere")
    assert "work: 1 live" in info.stdout


def test_offline_with_a_corrupt_cache_is_one_clear_line(
    run_evidence: RunEvidence, tmp_path: Path, evidence_env: dict[str, str]
) -> None:
    # Issue 14: a damaged cache is a miss and a hint (online: checked anyway; offline:
    # unverifiable), never a traceback.
    (tmp_path / "refs.txt").write_text(f"doi:{CLEAN}\n", encoding="utf-8")
    (Path(evidence_env["EVIDENCE_CACHE_DIR"]) / CACHE_FILE).write_bytes(b"not a database " * 100)
    online = run_evidence("check", "refs.txt", "--no-urls")
    assert online.returncode == 0 and "evidence cache clear" in online.stderr
    offline = run_evidence("check", "refs.txt", "--no-urls", "--offline")
    assert "Traceback" not in offline.stderr
    assert offline.returncode == 4
    assert "evidence cache clear" in offline.stderr


def test_eight_processes_share_one_cache(
    tmp_path: Path, crossref_sim: CrossrefSimulator, evidence_env: dict[str, str]
) -> None:
    # Limits high enough that eight independent clients are never refused: this is about the
    # cache, not about pacing.
    crossref_sim.rate_limit = crossref_sim.polite_rate_limit = 1000
    crossref_sim.concurrency = crossref_sim.polite_concurrency = 16
    (tmp_path / "lines.txt").write_bytes((BIB / "lines.txt").read_bytes())
    # Every process writes the answers of lines.txt (the same three DOIs) and one of its own.
    extras = sorted(d for d in crossref_sim.dois() if d.startswith("10.7717/peerj."))[:8]
    processes = []
    for i, extra in enumerate(extras):
        (tmp_path / f"extra{i}.txt").write_text(f"doi:{extra}\n", encoding="utf-8")
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "evidence_cli", "check", "lines.txt", f"extra{i}.txt",
             "--no-urls", "--format", "json"],
            cwd=tmp_path, env=evidence_env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        ))
    try:
        outcomes = [p.communicate(timeout=120) for p in processes]
    finally:  # a timeout above must not leave the others running (issue 14)
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.communicate()
    for process, (stdout, stderr) in zip(processes, outcomes, strict=True):
        assert "database is locked" not in stderr
        assert "Traceback" not in stderr
        assert process.returncode == 0, stderr
        report = json.loads(stdout)
        assert [r["status"] for r in report["references"]] == ["ok", "warning", "info", "ok"]
    database = sqlite3.connect(Path(evidence_env["EVIDENCE_CACHE_DIR"]) / CACHE_FILE)
    assert database.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    # Keys name the answering service (the simulator) before the DOI.
    rows = [(key.rsplit(" ", 1)[-1], value) for key, value in
            database.execute("SELECT key, value FROM answers WHERE kind = 'work'").fetchall()]
    database.close()
    expected = {CLEAN, "10.5555/evidence-cli.concern", "10.5281/zenodo.1234567", *extras}
    assert sorted(key for key, _ in rows) == sorted(expected)  # each answer once
    outcomes_by_key = {key: json.loads(value)["outcome"] for key, value in rows}
    assert outcomes_by_key.pop("10.5281/zenodo.1234567") == "other-agency"
    assert set(outcomes_by_key.values()) == {"found"}
