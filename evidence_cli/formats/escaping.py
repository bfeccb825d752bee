"""The escaping rules every output shares: terminals, CI logs, JSON, spreadsheets."""

from __future__ import annotations

import re

# Control characters (ESC, CSI, BEL...) in reference text must never reach a terminal raw: an
# escape sequence in a bibliography could rewrite the screen, the title bar or the clipboard.
# Bidi overrides and isolates (U+202A-202E, U+2066-2069, and the marks) reorder what is shown,
# so a line can read differently from what it is ("Trojan Source"): shown as escapes too.
_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_CONTROL = re.compile(f"[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f{_BIDI}]")
# For neutral(): C0 controls (but tab and line ends) as \x1b, which JSON never holds raw; DEL,
# C1 and bidi as \u009b, which means the same inside a JSON string and reads plainly elsewhere.
_NEUTRAL = re.compile(f"[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f{_BIDI}]|\\r(?!\\n)")
# Every character _NEUTRAL could match, as one class (a CR line end included): a class alone is
# scanned three times faster than the alternation, and most texts (a 50 MB JSON report) hold none.
_SUSPECT = re.compile(f"[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f{_BIDI}]")
# GitHub Actions runs any log line that starts with "::" (after spaces) as a workflow command.
_COMMAND_LINE = re.compile(r"^([ \t]*)::", re.M)
# JSON escapes C0 controls itself; DEL and the C1 block (0x9b is the 8-bit CSI) it writes raw.
_C1_AS_JSON = {code: f"\\u{code:04x}" for code in range(0x7F, 0xA0)}
_C1 = re.compile(r"[\x7f-\x9f]")


def inert(text: str, keep: str = "") -> str:
    """Visible stand-ins for control characters (ESC shows as "\\x1b"), but those in `keep`."""
    def shown(match: re.Match[str]) -> str:
        char = match.group(0)
        if char in keep:
            return char
        return f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"

    return _CONTROL.sub(shown, text)


def _neutral_char(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code < 0x20 else f"\\u{code:04x}"


def neutral(text: str, *, controls: bool = True, commands: bool = False) -> str:
    """The one pass every human-facing output goes through before it is written.

    Terminal controls (ESC, OSC, BEL, C1 such as U+009B, a CR that is not a line end) and bidi
    overrides become visible escapes; a line starting with "::" gets a backslash in front, so a
    CI runner never executes it as a workflow command — unless `commands` says the text is
    ours (the github format, whose values are already escaped). `controls=False` leaves the
    control characters (the table's own colours) and guards only the lines. JSON stays valid:
    the C0 controls JSON could not hold raw never occur in it, the rest become \\u escapes.
    """
    if controls and _SUSPECT.search(text):
        text = _NEUTRAL.sub(_neutral_char, text)
    if not commands and "::" in text:  # a find in C first: most texts hold no "::" at all
        text = _COMMAND_LINE.sub(r"\1\\::", text)
    return text


def json_safe(encoded: str) -> str:
    """Encoded JSON with DEL and C1 controls as \\u escapes (the same data, inert on a terminal)."""
    if not _C1.search(encoded):
        return encoded  # most lines: one scan in C instead of a translation (large reports)
    return encoded.translate(_C1_AS_JSON)


# Spreadsheets treat a cell starting with these as a formula (OWASP "CSV Injection"), after any
# leading spaces (some strip them); tab and CR because some skip them too.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")


def spreadsheet_safe(text: str) -> str:
    """A cell a spreadsheet reads as text, never as a formula (CSV/formula injection).

    A cell whose first non-blank character is = + - @ (or a tab / carriage return) gets a leading
    apostrophe, the mark spreadsheets themselves use for "this is text". A cell that is just a
    number ("-0.85") cannot be a formula and stays as it is, so numbers remain numbers. The one
    rule for every CSV this tool writes (the check report and the evidence tables).
    """
    stripped = text.lstrip(" ")
    if stripped.startswith(_FORMULA_STARTS) and not _NUMBER.match(stripped):
        return "'" + text
    return text
