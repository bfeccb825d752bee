"""Reader speed: entries (or paragraphs) read per second by each reader, at two sizes, to show
each is fast and linear (`python benchmarks/run.py readers`).

The inputs are constructed here, in the shapes real files have (BibTeX with @string macros,
accented names, braced and TeX titles; RIS and CSL-JSON exports; a Word document with running
text and a reference section); nothing is recorded data. Each figure is the best of two reads,
in this process, with the readers' caches emptied before each read.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable

from evidence_cli.sources import read_one

_FAMILIES = ["Müller", "O'Brien", "van der Berg", "García", "Nguyễn", "Smith", "Østergaard",
             "Kowalski", "Dubois", "Tanaka", "Okafor", "Silva", "Johansson", "Rossi", "Novák"]
_ACCENTED = ['M{\\"u}ller', "O'Brien", "van der Berg", "Garc{\\'\\i}a", "Nguyen", "Smith",
             "{\\O}stergaard", "Kowalski", "Dubois", "Tanaka", "Okafor", "Silva",
             "Johansson", "Rossi", "Nov{\\'a}k"]
_TITLE_FORMS = [
    "{{A randomised trial of intervention {%d} in {COVID-19} patients}}",
    "The {\\TeX} of clinical reporting, part %d",
    "Effects of metformin on cognitive decline: cohort %d",
    "Caf{\\'e} culture and cardiovascular risk in {Europe}, study %d",
    "{\\em Statins} and outcomes in trial %d --- a {meta-analysis}",
]


def _bibtex(count: int, math: bool = False) -> bytes:
    parts = ['@string{jclin = "Journal of Constructed Clinical Records"}\n',
             '@string{proc = "Proceedings of the Constructed Symposium"}\n\n']
    for i in range(count):
        first, second = _ACCENTED[i % 15], _ACCENTED[(i * 7 + 3) % 15]
        title = (f"Energy $E_{{{i}}} = mc^2$ and the $\\alpha$-helix {i}" if math
                 else _TITLE_FORMS[i % len(_TITLE_FORMS)] % i)
        venue = "jclin" if i % 3 else 'proc # " 2019"'
        parts.append(
            f"@article{{key{i},\n  author = {{{first}, Anna and {second}, B. J. and others}},\n"
            f"  title = {{{title}}},\n  journal = {venue},\n  year = {{{1990 + i % 35}}},\n"
            f"  volume = {{{i % 60}}},\n  number = {{{i % 12}}},\n  pages = {{{i}--{i + 9}}},\n"
            f"  doi = {{10.5555/bench.{i}}},\n}}\n\n")
    return "".join(parts).encode()


def _ris(count: int) -> bytes:
    return "".join(
        f"{i + 1}.\nTY  - JOUR\nAU  - {_FAMILIES[i % 15]}, Anna\n"
        f"AU  - {_FAMILIES[(i + 4) % 15]}, B\n"
        f"TI  - Effects of metformin on cognitive decline: cohort {i}\n"
        f"T2  - Journal of Constructed Clinical Records\nPY  - {1990 + i % 35}\nVL  - {i % 60}\n"
        f"IS  - {i % 12}\nSP  - {i}\nEP  - {i + 9}\nDO  - 10.5555/bench.{i}\nER  - \n\n"
        for i in range(count)).encode()


def _csl(count: int) -> bytes:
    return json.dumps([
        {"id": f"key{i}", "type": "article-journal",
         "title": f"Effects of metformin on cognitive decline: cohort {i}",
         "author": [{"family": _FAMILIES[i % 15], "given": "Anna"},
                    {"family": _FAMILIES[(i + 4) % 15], "given": "B."}],
         "container-title": "Journal of Constructed Clinical Records",
         "issued": {"date-parts": [[1990 + i % 35]]}, "volume": str(i % 60),
         "page": f"{i}-{i + 9}", "DOI": f"10.5555/bench.{i}"} for i in range(count)],
        indent=2).encode()


def _docx(body: int, references: int) -> bytes:
    """A python-docx document whose body paragraphs are written into its XML directly
    (python-docx's add_paragraph slows down as the body grows)."""
    import zipfile
    from xml.sax.saxutils import escape

    import docx

    document = docx.Document()
    document.add_paragraph("MARKER")
    buffer = io.BytesIO()
    document.save(buffer)

    def paragraph(text: str, style: str | None = None) -> str:
        props = f'<w:pPr><w:pStyle w:val="{style}"/></w:pPr>' if style else ""
        return f"<w:p>{props}<w:r><w:t>{escape(text)}</w:t></w:r></w:p>"

    parts = [paragraph("A practice note", "Heading1")]
    parts += [paragraph(f"Paragraph {i} of running text, as a guideline has it, with a claim "
                        "that a study supports and no link in it.") for i in range(body)]
    parts.append(paragraph("References", "Heading1"))
    parts += [paragraph(f"{_FAMILIES[i % 15]} A, {_FAMILIES[(i + 4) % 15]} B. Effects of "
                        f"metformin on cognitive decline: cohort {i}. J Constr Clin Rec. "
                        f"{1990 + i % 35};{i % 60}({i % 12}):{i}-{i + 9}. "
                        f"doi:10.5555/bench.{i}") for i in range(references)]
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "word/document.xml":
                marker = data.index(b"<w:p>")
                end = data.index(b"</w:p>", marker) + len(b"</w:p>")
                data = data[:marker] + "".join(parts).encode() + data[end:]
            target.writestr(item, data)
    return out.getvalue()


def _clear_caches() -> None:
    from evidence_cli.sources import bibtex
    from evidence_cli.sources.refparser import parser

    for cached in (bibtex.latex_to_text, bibtex.family_name, bibtex._split_names):
        cached.cache_clear()
    # The parser keeps its last parses of whole references: the second read must parse again.
    parser.clear_memo()


def _rate(data: bytes, kind: str, count: int) -> tuple[float, float, int]:
    """(items per second of wall time, of CPU time, references read), best of two reads.

    CPU time is given beside wall time because the machine is shared: wall time moves with the
    other processes' load, the process's own CPU time much less."""
    best_wall = best_cpu = float("inf")
    found = 0
    for _ in range(2):
        _clear_caches()
        wall, cpu = time.perf_counter(), time.process_time()
        found = len(read_one(data, f"bench.{kind}", kind))
        best_wall = min(best_wall, time.perf_counter() - wall)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    return count / best_wall, count / max(best_cpu, 1e-9), found


def _pair(label: str, unit: str, make: Callable[[int], bytes], kind: str,
          sizes: tuple[int, int]) -> str:
    small, large = sizes
    small_wall, small_cpu, _ = _rate(make(small), kind, small)
    large_wall, large_cpu, found = _rate(make(large), kind, large)
    # Linear: the rate at 10x the size stays about the same (ratio near 1; < 1 is slower).
    return (f"{label}: {small:,} {unit} at {small_wall:,.0f}/s wall ({small_cpu:,.0f}/s CPU), "
            f"{large:,} at {large_wall:,.0f}/s wall ({large_cpu:,.0f}/s CPU); CPU rate ratio "
            f"{large_cpu / small_cpu:.2f}; {found:,} references read")


def run() -> list[str]:
    lines = [
        _pair("BibTeX (@string, #, accented names, braced and TeX titles)", "entries", _bibtex,
              "bibtex", (7000, 70000)),
        _pair("BibTeX, every title with math (pylatexenc decodes each)", "entries",
              lambda n: _bibtex(n, math=True), "bibtex", (300, 3000)),
        _pair("RIS (numbered export)", "records", _ris, "ris", (7000, 70000)),
        _pair("CSL-JSON", "items", _csl, "csl-json", (7000, 70000)),
        _pair(".docx, running text", "paragraphs", lambda n: _docx(n, 0), "docx",
              (5000, 50000)),
        _pair(".docx, reference section (each paragraph parsed as a free-text citation)",
              "paragraphs", lambda n: _docx(0, n), "docx", (1000, 10000)),
    ]
    return lines


if __name__ == "__main__":
    for line in run():
        print(line, flush=True)
