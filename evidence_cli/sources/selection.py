"""Which files a folder run reads: what git ignores, the tool's own reports, JSON that is not
CSL-JSON, text that is no reference list and `--exclude-path` globs are skipped, each with why."""

from __future__ import annotations

import fnmatch
import json
import re
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

# The strings every report this tool writes carries (JSON, SARIF, HTML embed the JSON report's
# schema; the Markdown report its heading and tool line).
_REPORT_SCHEMA = b'"evidence-cli/check/v1"'
_SARIF_TOOL = re.compile(rb'"name"\s*:\s*"evidence-cli"')
_MARKDOWN_REPORT = re.compile(r"\A## [^\n]*\n\n\*\*\d+ references?:.*^<sub>evidence-cli ",
                              re.S | re.M)
_YEAR = re.compile(r"\b(?:1[5-9]\d\d|20\d\d|21\d\d)\b")
_DOI_OR_URL = re.compile(r"\b10\.\d{4,9}/|https?://", re.I)
_WORD = re.compile(r"[^\W\d_]{2,}")


@dataclass(frozen=True, slots=True)
class Skipped:
    """A file a folder run left out, and why (shown by `evidence check -v`)."""

    path: str
    reason: str


def excluded_by(paths: Iterable[str], patterns: Iterable[str]) -> str | None:
    """The first --exclude-path glob that matches a file (its path relative to the folder walked,
    or as shown) or one of its folders; `*` crosses folders, as in most tools' exclude options."""
    candidates: list[str] = []
    for given in paths:
        path = PurePosixPath(given)
        candidates += [given, path.name, *(str(parent) for parent in path.parents
                                           if str(parent) not in (".", "/"))]
    for pattern in patterns:
        cleaned = pattern.strip().removeprefix("./").rstrip("/")
        if any(fnmatch.fnmatchcase(candidate, cleaned) for candidate in candidates):
            return pattern
    return None


def git_ignored(folder: Path, files: list[Path]) -> set[Path]:
    """The files git ignores: `git check-ignore` inside a work tree, else the folder's own
    .gitignore files parsed here (patterns, negation, anchoring, `**`, folder-only rules)."""
    if not files:
        return set()
    from_git = _git_check_ignore(folder, files)
    if from_git is not None:
        return from_git
    cache: dict[Path, list[_Rule]] = {}
    return {file for file in files if _ignored_by_files(folder, file, cache)}


def _git_check_ignore(folder: Path, files: list[Path]) -> set[Path] | None:
    git = shutil.which("git")
    if git is None:
        return None
    try:
        inside = subprocess.run([git, "-C", str(folder), "rev-parse", "--is-inside-work-tree"],
                                capture_output=True, text=True, timeout=30, check=False)
        if inside.returncode != 0 or inside.stdout.strip() != "true":
            return None
        relative = [str(file.relative_to(folder)) for file in files]
        done = subprocess.run([git, "-C", str(folder), "check-ignore", "--stdin", "-z"],
                              input="\0".join(relative) + "\0", capture_output=True, text=True,
                              timeout=60, check=False)
    except (OSError, subprocess.SubprocessError, ValueError):
        return None
    if done.returncode not in (0, 1):  # 1: nothing ignored; anything else: git failed
        return None
    ignored = {name for name in done.stdout.split("\0") if name}
    return {file for file, name in zip(files, relative, strict=True) if name in ignored}


@dataclass(frozen=True, slots=True)
class _Rule:
    regex: re.Pattern[str]
    negated: bool


def _glob_to_regex(pattern: str) -> str:
    out: list[str] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if pattern.startswith("**/", index):
            out.append("(?:.*/)?")
            index += 3
            continue
        if pattern.startswith("**", index):
            out.append(".*")
            index += 2
            continue
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            end = pattern.find("]", index + 1)
            if end < 0:
                out.append(re.escape(char))
            else:
                body = pattern[index + 1: end].replace("\\", "\\\\")
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append(f"[{body}]")
                index = end
        elif char == "\\" and index + 1 < len(pattern):
            index += 1
            out.append(re.escape(pattern[index]))
        else:
            out.append(re.escape(char))
        index += 1
    return "".join(out)


def parse_gitignore(text: str) -> list[_Rule]:
    """The rules of one .gitignore, in order (gitignore(5): the last matching rule wins)."""
    rules: list[_Rule] = []
    for line in text.splitlines():
        line = line.rstrip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        if negated:
            line = line[1:]
        line = line.removeprefix("\\")
        folder_only = line.endswith("/")
        line = line.rstrip("/")
        if not line:
            continue
        anchored = "/" in line
        body = _glob_to_regex(line.lstrip("/"))
        prefix = "" if anchored else "(?:.*/)?"
        # A folder rule matches what is inside the folder; other rules the path or its folders.
        suffix = "/.*" if folder_only else "(?:/.*)?"
        rules.append(_Rule(re.compile(f"^{prefix}{body}{suffix}$"), negated))
    return rules


def _ignored_by_files(folder: Path, file: Path, cache: dict[Path, list[_Rule]]) -> bool:
    ignored = False
    relative = file.relative_to(folder)
    # .gitignore files from the folder down to the file's own folder, outermost first.
    for depth in range(len(relative.parts)):
        base = folder.joinpath(*relative.parts[:depth])
        rules = _rules_of(base / ".gitignore", cache)
        if not rules:
            continue
        below = "/".join(relative.parts[depth:])
        for rule in rules:
            if rule.regex.match(below):
                ignored = not rule.negated
    return ignored


def _rules_of(path: Path, cache: dict[Path, list[_Rule]]) -> list[_Rule]:
    if path not in cache:
        try:
            text = path.read_text(encoding="utf-8", errors="replace") if path.is_file() else ""
        except OSError:
            text = ""
        cache[path] = parse_gitignore(text[:1024 * 1024])
    return cache[path]


def content_skip_reason(kind: str, data: bytes) -> str | None:
    """Why a file found in a folder is not read although its suffix is supported, or None."""
    head = data[:1024 * 1024]
    if _is_own_report(kind, head):
        return "a report written by evidence-cli"
    if kind == "csl-json" and not looks_like_csl_json(data):
        return "JSON that is not CSL-JSON"
    if kind == "text" and not looks_like_reference_list(data):
        return "text that does not look like a reference list (name it to read it)"
    return None


def _is_own_report(kind: str, head: bytes) -> bool:
    if kind in ("csl-json", "html") and _REPORT_SCHEMA in head:
        return True
    if kind == "csl-json" and b"sarif" in head[:2000].lower() and _SARIF_TOOL.search(head):
        return True
    if kind == "markdown":
        text = head.decode("utf-8", "replace").lstrip("\ufeff")
        return bool(_MARKDOWN_REPORT.match(text))
    return False


_CSL_KEYS = frozenset({"type", "title", "author", "editor", "issued", "DOI", "container-title",
                       "URL", "id", "citation-key", "page", "volume", "publisher"})


def looks_like_csl_json(data: bytes) -> bool:
    """A list of objects (or {"items": [...]}) whose first items carry CSL fields: "title" or
    "author" or "DOI" or "issued", and none of a package manifest's keys."""
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return False
    items = document.get("items") if isinstance(document, dict) else document
    if not isinstance(items, list) or not items:
        return False
    sample = items[:20]
    if not all(isinstance(item, dict) for item in sample):
        return False
    return all(len(_CSL_KEYS & item.keys()) >= 2 and
               bool({"title", "author", "DOI", "issued", "editor"} & item.keys())
               for item in sample)


def looks_like_reference_list(data: bytes) -> bool:
    """Most entries (paragraphs, or lines) read like citations: a year with a few words around
    it, or a DOI or link. LICENSE.txt, requirements.txt and notes do not."""
    from evidence_cli.sources.text import split_entries

    try:
        text = data[:2 * 1024 * 1024].decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data[:2 * 1024 * 1024].decode("utf-16")
        except UnicodeDecodeError:
            return False
    entries = [entry for _, entry in split_entries(text)][:500]
    if not entries:
        return False
    citing = sum(1 for entry in entries
                 if (_YEAR.search(entry) and len(_WORD.findall(entry)) >= 3)
                 or _DOI_OR_URL.search(entry))
    return citing * 2 >= len(entries) and (citing >= 2 or bool(_DOI_OR_URL.search(text)))
