"""`evidence claim add|list`: claims you want to make, tied to the studies behind them."""

from __future__ import annotations

from pathlib import Path

import typer

from evidence_cli.commands import options as opt
from evidence_cli.errors import EXIT_OK

claim_app = typer.Typer(help="Claims you want to make, tied to the studies behind them.",
                        no_args_is_help=True)


@claim_app.command("add")
def claim_add(
    slug: str = opt.SLUG,
    statement: str = typer.Argument(..., help="The claim, in your words."),
    study: list[str] = typer.Option(..., "--study", help="Id of a study behind the claim "
                                    "(repeatable)."),
    quote: str | None = opt.text("--quote", "The passage that supports it."),
    page: str | None = opt.text("--page", "Where the passage is."),
    claim_id: str | None = opt.text("--id", "Claim id [default: claim-N]."),
    reviews_dir: Path | None = opt.REVIEWS_DIR,
) -> int:
    """Record a claim and the studies that support it."""
    from evidence_cli.reviews.claims import NewClaim, add_claim

    chosen, path = add_claim(opt.store_for(reviews_dir), slug,
                             NewClaim(statement, tuple(study), quote, page, claim_id))
    typer.echo(f"added {chosen} to {path}")
    return EXIT_OK


@claim_app.command("list")
def claim_list(
    slug: str = opt.SLUG,
    output_json: bool = opt.flag("--json", "Print the claims as JSON."),
    reviews_dir: Path | None = opt.REVIEWS_DIR,
) -> int:
    """List a review's claims and their last audit."""
    from evidence_cli.commands.study import print_items
    from evidence_cli.reviews.catalogue import claim_line

    return print_items(slug, reviews_dir, "claims", output_json, claim_line)


def register(app: typer.Typer) -> None:
    app.add_typer(claim_app, name="claim")
