"""TeX in BibTeX values turned into plain text: logos, accents, escapes and ties by rule, the
rest (math, other macros) by pylatexenc."""

from __future__ import annotations

import functools
import re
from typing import Any

_LATEX_MARKS = re.compile(r"[\\$]")
# TeX's logos, which pylatexenc's defaults drop (`{\TeX}'s DVI files` came out as "'s DVI files").
_LOGOS = {
    "TeX": "TeX", "LaTeX": "LaTeX", "LaTeXe": "LaTeX2e", "BibTeX": "BibTeX",
    "BibLaTeX": "BibLaTeX", "AmSTeX": "AmSTeX", "AmS": "AMS", "AMS": "AMS", "SliTeX": "SliTeX",
    "METAFONT": "METAFONT", "MF": "METAFONT", "METAPOST": "MetaPost", "MP": "MetaPost",
    "ConTeXt": "ConTeXt", "XeTeX": "XeTeX", "XeLaTeX": "XeLaTeX", "LuaTeX": "LuaTeX",
    "LuaLaTeX": "LuaLaTeX", "pdfTeX": "pdfTeX", "pdfLaTeX": "pdfLaTeX", "eTeX": "e-TeX",
    "PiCTeX": "PiCTeX", "TeXbook": "TeXbook", "MiKTeX": "MiKTeX", "TUB": "TUGboat",
    "TUG": "TUG", "Dash": "—",
}


@functools.lru_cache(maxsize=1)
def _latex_decoder() -> Any:
    """pylatexenc's LaTeX-to-text, with TeX's logos and \\url added; math as text."""
    from pylatexenc.latex2text import (
        LatexNodes2Text,
        MacroTextSpec,
        get_default_latex_context_db,
    )

    context = get_default_latex_context_db()
    context.add_context_category(
        "evidence-cli", prepend=True,
        macros=[MacroTextSpec("url", simplify_repl="%s"),
                *(MacroTextSpec(name, simplify_repl=text) for name, text in _LOGOS.items())],
    )
    return LatexNodes2Text(latex_context=context, keep_braced_groups=False, math_mode="text")


# The TeX most titles and names hold — logos, accents, escaped characters, ties — turned into text
# here: pylatexenc takes about 2 ms a value (its tokenizer goes character by character), which
# made reading 7,000 entries take 11 s. Whatever else is left (math, other macros) goes to it.
_ACCENTS = {"'": "\u0301", "`": "\u0300", "^": "\u0302", '"': "\u0308", "~": "\u0303",
            "=": "\u0304", ".": "\u0307", "u": "\u0306", "v": "\u030c", "H": "\u030b",
            "c": "\u0327", "k": "\u0328", "r": "\u030a", "b": "\u0331", "d": "\u0323"}
_LETTERS = {"ss": "ß", "ae": "æ", "AE": "Æ", "oe": "œ", "OE": "Œ", "o": "ø", "O": "Ø",
            "l": "ł", "L": "Ł", "aa": "å", "AA": "Å", "i": "ı", "j": "ȷ"}
_FAST_LOGO = re.compile(r"\\(" + "|".join(sorted(_LOGOS, key=len, reverse=True))
                        + r")(?![A-Za-z])(?:\{\}|\\(?=\s)| *)")
_FAST_ACCENT = re.compile(r"\\(['`^\"~=.])\s*(\{?)([A-Za-z]|\\[ij](?![A-Za-z]))\}?"
                          r"|\\([uvHckrbd])(?:\s+|(?=\{))(\{?)([A-Za-z]|\\[ij](?![A-Za-z]))\}?")
_FAST_LETTER = re.compile(r"\\(ss|ae|AE|oe|OE|aa|AA|o|O|l|L|i|j)(?![A-Za-z])(?:\{\}| *)")
_FAST_STYLE = re.compile(r"\\(?:emph|text(?:it|bf|sc|rm|tt|sf|sl|up|normal)|mbox|it|bf|em|sc|rm"
                         r"|tt|sf|sl|url|nolinkurl|relax)(?![A-Za-z]) *")
_FAST_ESCAPE = re.compile(r"\\([&%$#_{}])")


def _accented(match: re.Match[str]) -> str:
    mark = match.group(1) or match.group(4)
    letter = match.group(3) or match.group(6)
    base = {"\\i": "i", "\\j": "j"}.get(letter, letter)
    import unicodedata

    return unicodedata.normalize("NFC", base + _ACCENTS[mark])


def _fast_tex(value: str) -> str | None:
    """Text for a value with only common TeX in it, or None when pylatexenc must decide."""
    text = _FAST_LOGO.sub(lambda m: _LOGOS[m.group(1)], value)
    text = _FAST_ACCENT.sub(_accented, text)
    text = _FAST_LETTER.sub(lambda m: _LETTERS[m.group(1)], text)
    text = _FAST_STYLE.sub("", text)
    escaped: list[str] = []

    def keep(match: re.Match[str]) -> str:
        escaped.append(match.group(1))
        return "\x00"

    text = _FAST_ESCAPE.sub(keep, text)
    if "\\" in text or "$" in text:
        return None
    text = text.replace("{", "").replace("}", "").replace("~", " ").replace("\x00", "\x01")
    pieces = iter(escaped)
    return re.sub("\x01", lambda _: next(pieces), text)


@functools.lru_cache(maxsize=65536)
def latex_to_text(value: str) -> str:
    """Decode LaTeX only where there is some; most values are only braces and ties, or common
    accents and logos (`_fast_tex`), and pylatexenc gets the rest."""
    if not _LATEX_MARKS.search(value):
        return value.replace("{", "").replace("}", "").replace("~", " ")
    fast = _fast_tex(value)
    if fast is not None:
        return fast
    try:
        decoded: str = _latex_decoder().latex_to_text(value)
    except Exception:  # pylatexenc raises assorted errors on broken LaTeX: keep the text
        return value
    return decoded
