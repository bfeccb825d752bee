"""`evidence table`: render a review's evidence table."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from evidence_cli.commands import options as opt
from evidence_cli.errors import EXIT_OK


def table(
    slug: str = opt.SLUG,
    output_format: str | None = opt.output_format("markdown, csv, html, json or latex "
                                                  "(default: markdown, or from --output's "
                                                  "suffix)."),
    output: Path | None = opt.OUTPUT,
    columns: list[str] = opt.texts("--columns", "Columns, comma-separated: study, design, "
                                   "population, comparison, outcome, effect, caveats, audit, "
                                   "id, authors, year, title, container, doi, setting, country, "
                                   "n, age, sex, intervention, comparator, follow_up, "
                                   "risk_of_bias, notes."),
    sort: list[str] = opt.texts("--sort", "Sort by a column, e.g. year or year:desc "
                                "(repeatable)."),
    reviews_dir: Path | None = opt.REVIEWS_DIR,
) -> int:
    """Render a review's evidence table."""
    from evidence_cli.formats import neutral
    from evidence_cli.reviews import tables
    from evidence_cli.reviews.values import parsed

    chosen = opt.choose_format(output_format, output, tables.FORMATS, opt.DOCUMENT_SUFFIXES,
                               "markdown", strict_suffix=True)
    keys = parsed("--columns", tables.parse_columns, columns)
    order = parsed("--sort", tables.parse_sort, sort)
    review = opt.store_for(reviews_dir).load(slug)
    # Files too: a table is read on a terminal or in a CI log as often as in a browser.
    text = neutral(tables.render(review.doc, chosen, keys, order))
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        opt.write_output(output, text)
    return EXIT_OK


def register(app: typer.Typer) -> None:
    app.command("table")(table)
