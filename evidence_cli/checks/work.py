"""A registered work: a Crossref record read once into the typed values checks and matching use."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from evidence_cli.checks.records import (
    family_names,
    full_title,
    registered_years,
    year_of,
)
from evidence_cli.models import CitedFields, first_text


def _texts(value: Any) -> tuple[str, ...]:
    """Every non-empty string of a Crossref list field ("title": ["...", "..."])."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return ()
    return tuple(" ".join(item.split()) for item in value if isinstance(item, str) and item.strip())


@dataclass(frozen=True, slots=True)
class RegisteredWork:
    """What Crossref registered for one DOI, in the forms the comparisons need.

    `record` is the whole message, kept for the update checks (retractions, corrections) and
    for the report; everything else is read from it once, here, instead of by every check.
    """

    doi: str | None
    title: str | None  # title and subtitle, as the report shows it
    titles: tuple[str, ...]  # every registered title (title, original title)
    subtitles: tuple[str, ...]
    short_titles: tuple[str, ...]
    families: tuple[str, ...]  # family names (or group names) of the authors, else editors
    years: frozenset[int]  # years of every registered publication date
    issued_year: int | None
    containers: tuple[str, ...]  # container titles, full names first, then short ones
    volume: str | None
    issue: str | None
    page: str | None
    article_number: str | None
    url: str | None
    record: dict[str, Any]

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> RegisteredWork:
        resource = record.get("resource")
        primary = resource.get("primary") if isinstance(resource, dict) else None
        url = primary.get("URL") if isinstance(primary, dict) else None
        doi = record.get("DOI")
        years = frozenset(registered_years(record))
        return cls(
            doi=doi.lower() if isinstance(doi, str) else None,
            title=full_title(record),
            titles=_texts(record.get("title")) + _texts(record.get("original-title")),
            subtitles=_texts(record.get("subtitle")),
            short_titles=_texts(record.get("short-title")),
            families=tuple(family_names(record)),
            years=years,
            issued_year=year_of(record.get("issued")) or min(years, default=None),
            containers=_texts(record.get("container-title"))
            + _texts(record.get("short-container-title")),
            volume=first_text(record.get("volume")),
            issue=first_text(record.get("issue")),
            page=first_text(record.get("page")),
            article_number=first_text(record.get("article-number")),
            url=url if isinstance(url, str) else first_text(record.get("URL")),
            record=record,
        )

    @property
    def pages(self) -> tuple[str, ...]:
        """The page range and the article number: a citation may give either."""
        return tuple(value for value in (self.page, self.article_number) if value)

    @property
    def container(self) -> str | None:
        return self.containers[0] if self.containers else None

    @property
    def has_identity(self) -> bool:
        """A title or authors to compare a citation with (some records have neither)."""
        return bool(self.titles or self.families)

    def to_fields(self) -> CitedFields:
        """The registered values as the report's bibliographic fields: registered_fields of the
        record, from the values already read (reading the record again was a tenth of a
        50,000-work check; a test holds the two equal on the recorded records)."""
        return CitedFields(
            doi=self.doi, title=self.title, authors=list(self.families), year=self.issued_year,
            # Not containers[0]: first_text also takes a number, which _texts leaves out.
            container=first_text(self.record.get("container-title")),
            volume=self.volume, issue=self.issue, pages=self.page or self.article_number,
            url=self.url)


def as_work(record: dict[str, Any] | RegisteredWork) -> RegisteredWork:
    """Accept a record or a work: callers that hold a raw message need not convert it first."""
    return record if isinstance(record, RegisteredWork) else RegisteredWork.from_record(record)
