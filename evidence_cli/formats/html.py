"""HTML output: one self-contained page (no network requests) an editor can open and share."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from html import escape
from typing import Any
from urllib.parse import quote

from evidence_cli.formats.escaping import inert, json_safe
from evidence_cli.formats.interface import ReportFormat
from evidence_cli.formats.report import FindingEntry, ReferenceEntry, Report
from evidence_cli.formats.text import summary_line
from evidence_cli.models import SUMMARY_ORDER, UNVERIFIABLE_CODES, worst_first

_STATUS_LABEL = {status.value: "OK" if status == "ok" else status.capitalize()
                 for status in SUMMARY_ORDER}

_CSS = """
:root {
  color-scheme: light dark;
  --bg: #f6f8fa; --panel: #ffffff; --text: #1f2328; --muted: #59636e; --line: #d1d9e0;
  --ok: #1a7f37; --info: #0969da; --warning: #9a6700; --error: #cf222e; --unverifiable: #8250df;
  --ok-bg: #dafbe1; --info-bg: #ddf4ff; --warning-bg: #fff8c5; --error-bg: #ffebe9;
  --unverifiable-bg: #fbefff; --accent: #0969da;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0d1117; --panel: #151b23; --text: #e6edf3; --muted: #9198a1; --line: #3d444d;
    --ok: #3fb950; --info: #4493f8; --warning: #d29922; --error: #f85149; --unverifiable: #ab7df8;
    --ok-bg: #12261e; --info-bg: #121d2f; --warning-bg: #272115; --error-bg: #25171c;
    --unverifiable-bg: #211a33; --accent: #4493f8;
  }
}
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body {
  margin: 0; background: var(--bg); color: var(--text);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
}
main { max-width: 1280px; margin: 0 auto; padding: 28px 24px 40px; }
header h1 { margin: 0; font-size: 26px; letter-spacing: -0.01em; }
header p { margin: 4px 0 0; color: var(--muted); }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(130px, 1fr)); gap: 12px;
  margin: 22px 0 12px; }
.card { background: var(--panel); border: 1px solid var(--line); border-radius: 10px;
  padding: 12px 16px; border-top: 4px solid var(--muted); }
.card .n { display: block; font-size: 28px; font-weight: 650; font-variant-numeric: tabular-nums; }
.card .l { color: var(--muted); font-size: 13px; text-transform: uppercase; letter-spacing: .04em; }
.card.ok { border-top-color: var(--ok); } .card.info { border-top-color: var(--info); }
.card.warning { border-top-color: var(--warning); } .card.error { border-top-color: var(--error); }
.card.unverifiable { border-top-color: var(--unverifiable); }
.bar { display: flex; height: 10px; border-radius: 5px; overflow: hidden; background: var(--line);
  margin-bottom: 6px; }
.bar span { display: block; min-width: 3px; }
.bar .ok { background: var(--ok); } .bar .info { background: var(--info); }
.bar .warning { background: var(--warning); } .bar .error { background: var(--error); }
.bar .unverifiable { background: var(--unverifiable); }
.sentence { color: var(--muted); margin: 0 0 20px; }
.controls { display: flex; flex-wrap: wrap; gap: 10px 20px; align-items: center;
  background: var(--panel); border: 1px solid var(--line); border-radius: 10px; padding: 12px 16px;
  margin-bottom: 14px; }
.controls input[type=search] { font: inherit; padding: 6px 10px; min-width: 280px;
  border: 1px solid var(--line); border-radius: 6px; background: var(--bg); color: var(--text); }
.controls fieldset { border: 0; margin: 0; padding: 0; display: flex; flex-wrap: wrap;
  gap: 6px 14px; }
.controls legend { position: absolute; clip: rect(0 0 0 0); width: 1px; height: 1px;
  overflow: hidden; }
.controls label.status { display: inline-flex; align-items: center; gap: 6px; cursor: pointer; }
.dot { width: 10px; height: 10px; border-radius: 50%; display: inline-block; }
.dot.ok { background: var(--ok); } .dot.info { background: var(--info); }
.dot.warning { background: var(--warning); } .dot.error { background: var(--error); }
.dot.unverifiable { background: var(--unverifiable); }
#shown { margin-left: auto; color: var(--muted); font-variant-numeric: tabular-nums; }
.table-wrap { background: var(--panel); border: 1px solid var(--line); border-radius: 10px;
  overflow-x: auto; }
table { width: 100%; border-collapse: collapse; }
th, td { text-align: left; vertical-align: top; padding: 10px 14px;
  border-bottom: 1px solid var(--line); }
tbody tr:last-child td { border-bottom: 0; }
thead th { position: sticky; top: 0; background: var(--panel); z-index: 1; padding: 0; }
thead th button { all: unset; box-sizing: border-box; display: block; width: 100%; cursor: pointer;
  padding: 10px 14px; font-weight: 600; font-size: 13px; color: var(--muted);
  text-transform: uppercase; letter-spacing: .04em; }
thead th button:focus-visible { outline: 2px solid var(--accent); outline-offset: -2px; }
thead th button::after { content: " \\2195"; opacity: .35; }
thead th[aria-sort=ascending] button::after { content: " \\2191"; opacity: 1; }
thead th[aria-sort=descending] button::after { content: " \\2193"; opacity: 1; }
tbody tr:hover { background: var(--bg); }
.badge { display: inline-block; padding: 1px 9px; border-radius: 999px; font-size: 12px;
  font-weight: 600; white-space: nowrap; border: 1px solid currentColor; }
.badge.ok { color: var(--ok); background: var(--ok-bg); }
.badge.info { color: var(--info); background: var(--info-bg); }
.badge.warning { color: var(--warning); background: var(--warning-bg); }
.badge.error { color: var(--error); background: var(--error-bg); }
.badge.unverifiable { color: var(--unverifiable); background: var(--unverifiable-bg); }
.ref-id { font: 12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
  color: var(--muted); }
.ref-title { font-weight: 600; }
.ref-meta { color: var(--muted); font-size: 13px; }
.raw { font-size: 13px; color: var(--muted); white-space: pre-wrap; overflow-wrap: anywhere; }
details.raw summary { cursor: pointer; }
.loc, .doi { font: 13px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
  overflow-wrap: break-word; }
th.col-status { width: 8rem; } th.col-loc { width: 13%; } th.col-doi { width: 15%; }
th.col-findings { width: 36%; }
.doi a { color: var(--accent); text-decoration: none; } .doi a:hover { text-decoration: underline; }
ul.findings { list-style: none; margin: 0; padding: 0; display: grid; gap: 8px; }
ul.findings li { border-left: 3px solid var(--muted); padding-left: 10px; }
ul.findings li.error { border-left-color: var(--error); }
ul.findings li.warning { border-left-color: var(--warning); }
ul.findings li.info { border-left-color: var(--info); }
ul.findings li.unverifiable { border-left-color: var(--unverifiable); }
.code { font: 600 12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.compare { display: grid; grid-template-columns: max-content 1fr; gap: 0 8px; font-size: 13px;
  margin-top: 2px; }
.compare dt { color: var(--muted); } .compare dd { margin: 0; overflow-wrap: break-word; }
.message { font-size: 14px; }
.suggestion { font-size: 13px; color: var(--muted); }
.none { color: var(--muted); }
#empty { padding: 24px; text-align: center; color: var(--muted); margin: 0; }
footer { margin-top: 22px; color: var(--muted); font-size: 13px; }
@media print {
  body { background: #fff; } .controls { display: none; } thead th { position: static; }
  thead th button::after { content: ""; }
}
"""

# The page's only script. It reads nothing but the DOM the Python side escaped, never assigns
# innerHTML, and is allowed by its hash in the CSP: any script smuggled into reference text is not.
_JS = """
(function () {
  "use strict";
  var table = document.getElementById("refs");
  if (!table) { return; }
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var haystack = rows.map(function (row) { return row.textContent.toLowerCase(); });
  var filter = document.getElementById("filter");
  var boxes = Array.prototype.slice.call(document.querySelectorAll("input[data-status]"));
  var shown = document.getElementById("shown");
  var empty = document.getElementById("empty");
  var collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });

  function apply() {
    var terms = filter.value.toLowerCase().split(/\\s+/).filter(Boolean);
    var allowed = {};
    boxes.forEach(function (box) { allowed[box.getAttribute("data-status")] = box.checked; });
    var count = 0;
    rows.forEach(function (row, index) {
      var text = haystack[index];
      var visible = allowed[row.getAttribute("data-status")] === true &&
        terms.every(function (term) { return text.indexOf(term) !== -1; });
      row.hidden = !visible;
      if (visible) { count += 1; }
    });
    shown.textContent = "Showing " + count + " of " + rows.length;
    empty.hidden = count !== 0;
  }

  var headers = Array.prototype.slice.call(table.tHead.rows[0].cells);
  headers.forEach(function (header, column) {
    var button = header.querySelector("button");
    if (!button) { return; }
    button.addEventListener("click", function () {
      var ascending = header.getAttribute("aria-sort") !== "ascending";
      headers.forEach(function (other) { other.setAttribute("aria-sort", "none"); });
      header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      var numeric = header.getAttribute("data-type") === "number";
      var keyed = rows.map(function (row, index) {
        var cell = row.cells[column];
        var key = cell.hasAttribute("data-sort") ? cell.getAttribute("data-sort")
          : cell.textContent.trim();
        return { row: row, key: numeric ? parseFloat(key) : key, index: index };
      });
      keyed.sort(function (a, b) {
        var order = numeric ? a.key - b.key : collator.compare(a.key, b.key);
        return (ascending ? order : -order) || a.index - b.index;
      });
      keyed.forEach(function (item) { body.appendChild(item.row); });
    });
  });

  filter.addEventListener("input", apply);
  boxes.forEach(function (box) { box.addEventListener("change", apply); });
  apply();
})();
"""


def _script_hash(script: str) -> str:
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return "sha256-" + base64.b64encode(digest).decode("ascii")


def content_security_policy() -> str:
    """No fetches of any kind; inline styles; only the page's own script (by hash) may run."""
    return (
        "default-src 'none'; style-src 'unsafe-inline'; "
        f"script-src '{_script_hash(_JS)}'; img-src data:; base-uri 'none'; form-action 'none'"
    )


def json_for_script(data: Any) -> str:
    """JSON safe inside <script type="application/json">: '<', '>' and '&' as \\u escapes.

    Without this, a reference containing `</script>` would end the block and start markup.
    """
    text = json_safe(json.dumps(data, ensure_ascii=False, indent=None))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _e(value: object) -> str:
    return escape(inert("" if value is None else str(value)), quote=True)


def _text(value: Any) -> str:
    if isinstance(value, list):
        return "; ".join(str(item) for item in value)
    return "" if value is None else str(value)


def _doi_cell(doi: str | None) -> str:
    if not doi:
        return '<td class="doi" data-sort=""><span class="none">—</span></td>'
    # The link is built from a fixed resolver and a percent-encoded DOI, so reference text can
    # never choose the scheme (no javascript: links). Following it is the reader's choice.
    href = "https://doi.org/" + quote(doi, safe="/:;()._-")
    return (
        f'<td class="doi"><a href="{_e(href)}" rel="noopener noreferrer" '
        f'target="_blank">{_e(doi)}</a></td>'
    )


def _reference_cell(reference: ReferenceEntry) -> str:
    cited = reference.get("cited") or {}
    raw = _text(reference.get("raw"))
    title = _text(cited.get("title"))
    parts = [f'<div class="ref-id">{_e(reference.get("id", ""))}</div>']
    if title:
        authors = cited.get("authors") or []
        names = ", ".join(str(a) for a in authors[:3]) + (" et al." if len(authors) > 3 else "")
        meta = " · ".join(
            part for part in (names, _text(cited.get("year")), _text(cited.get("container")))
            if part
        )
        parts.append(f'<div class="ref-title">{_e(title)}</div>')
        if meta:
            parts.append(f'<div class="ref-meta">{_e(meta)}</div>')
        if raw:
            parts.append(
                f'<details class="raw"><summary>As written</summary>{_e(raw)}</details>'
            )
    elif raw:
        parts.append(f'<div class="raw">{_e(raw)}</div>')
    return f'<td data-sort="{_e(reference.get("id", ""))}">{"".join(parts)}</td>'


def _finding_item(finding: FindingEntry, unverifiable: bool) -> str:
    severity = str(finding.get("severity") or "info")
    css = "unverifiable" if unverifiable else severity
    item = [
        f'<span class="code">{_e(finding.get("code"))}</span> '
        f'<span class="badge {_e(css)}">{_e(severity)}</span> '
        f'<div class="message">{_e(finding.get("message"))}</div>'
    ]
    cited, registered = finding.get("cited"), finding.get("registered")
    if finding.get("field") and (cited is not None or registered is not None):
        item.append(
            f'<dl class="compare"><dt>field</dt><dd>{_e(finding.get("field"))}</dd>'
            f"<dt>cited</dt><dd>{_e(_text(cited)) or '—'}</dd>"
            f"<dt>registered</dt><dd>{_e(_text(registered)) or '—'}</dd></dl>"
        )
    suggestion = finding.get("suggestion")
    if suggestion and str(suggestion) not in (_text(registered), str(finding.get("message"))):
        item.append(f'<div class="suggestion">Suggestion: {_e(finding["suggestion"])}</div>')
    return f'<li class="{_e(css)}">{"".join(item)}</li>'


def _row(reference: ReferenceEntry) -> str:
    status = str(reference.get("status") or "unverifiable")
    source = reference.get("source") or {}
    line = source.get("line")
    location = _text(source.get("path")) + (f":{line}" if line is not None else "")
    findings = reference.get("findings") or []
    if findings:
        items = "".join(
            _finding_item(f, f.get("code") in UNVERIFIABLE_CODES) for f in findings
        )
        findings_html = f'<ul class="findings">{items}</ul>'
    else:
        findings_html = '<span class="none">No findings</span>'
    return (
        f'<tr data-status="{_e(status)}">'
        # Sorted ascending, the Status column shows the worst first.
        f'<td data-sort="{worst_first(status)}">'
        f'<span class="badge {_e(status)}">{_e(_STATUS_LABEL.get(status, status))}</span></td>'
        f"{_reference_cell(reference)}"
        f'<td class="loc">{_e(location)}</td>'
        f"{_doi_cell(reference.get('doi'))}"
        f'<td data-sort="{len(findings)}">{findings_html}</td>'
        "</tr>"
    )


def _summary(summary: Mapping[str, Any]) -> str:
    total = int(summary.get("references") or 0)
    cards = [f'<div class="card"><span class="n">{total}</span>'
             f'<span class="l">references</span></div>']
    bar = []
    for status in SUMMARY_ORDER:
        count = int(summary.get(status) or 0)
        cards.append(
            f'<div class="card {status}"><span class="n">{count}</span>'
            f'<span class="l">{_STATUS_LABEL[status]}</span></div>'
        )
        if count:
            bar.append(
                f'<span class="{status}" style="flex-grow:{count}" '
                f'title="{count} {status}"></span>'
            )
    return (
        f'<section class="cards" aria-label="Summary">{"".join(cards)}</section>'
        f'<div class="bar" aria-hidden="true">{"".join(bar)}</div>'
        f'<p class="sentence">{_e(summary_line(summary))}</p>'
    )


def _controls(summary: Mapping[str, Any]) -> str:
    boxes = "".join(
        f'<label class="status"><input type="checkbox" checked data-status="{status}" '
        f'id="show-{status}"><span class="dot {status}"></span>{_STATUS_LABEL[status]} '
        f"({int(summary.get(status) or 0)})</label>"
        for status in SUMMARY_ORDER
    )
    return (
        '<section class="controls">'
        '<label>Filter <input type="search" id="filter" '
        'placeholder="Text, DOI, file, finding code…" autocomplete="off"></label>'
        f"<fieldset><legend>Statuses shown</legend>{boxes}</fieldset>"
        '<span id="shown" aria-live="polite"></span>'
        "</section>"
    )


class HtmlFormat(ReportFormat):
    """One self-contained page: summary cards, a filterable, sortable table, the JSON inside."""

    def render(self, report: Report) -> str:
        summary = report.get("summary") or {}
        references = report.get("references") or []
        tool = report.get("tool") or {}
        tool_text = f"{tool.get('name') or 'evidence-cli'} {tool.get('version') or ''}".strip()
        if references:
            rows = "".join(_row(reference) for reference in references)
            body = (
                _controls(summary)
                + '<div class="table-wrap"><table id="refs"><thead><tr>'
                '<th class="col-status" data-type="number" aria-sort="none">'
                '<button type="button">Status</button></th>'
                '<th class="col-ref" aria-sort="none"><button type="button">Reference</button></th>'
                '<th class="col-loc" aria-sort="none"><button type="button">Location</button></th>'
                '<th class="col-doi" aria-sort="none"><button type="button">DOI</button></th>'
                '<th class="col-findings" data-type="number" aria-sort="none">'
                '<button type="button">Findings</button></th>'
                f"</tr></thead><tbody>{rows}</tbody></table>"
                '<p id="empty" hidden>No reference matches the filter.</p></div>'
            )
        else:
            body = '<p class="sentence">No references were found in the input.</p>'
        title = f"Reference check: {summary_line(summary)}"
        return (
            "<!DOCTYPE html>\n"
            '<html lang="en"><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="{_e(content_security_policy())}">'
            '<meta name="referrer" content="no-referrer">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{_e(title)}</title><style>{_CSS}</style></head>\n"
            "<body><main>"
            "<header><h1>Reference check</h1>"
            f"<p>Checked against Crossref by {_e(tool_text)}. A reference that could not be "
            "checked is marked unverifiable, never OK.</p></header>"
            f"{_summary(summary)}{body}"
            "<footer>This page is self-contained: it makes no network requests. The full report "
            f"({_e(report.get('schema') or 'JSON')}) is embedded in it as JSON.</footer>"
            "</main>\n"
            f'<script type="application/json" id="report-data">{json_for_script(report)}</script>\n'
            f"<script>{_JS}</script>\n"
            "</body></html>\n"
        )
