"""Read a Crossref work record into the report's bibliographic fields and registered dates."""

from __future__ import annotations

from typing import Any

from evidence_cli.models import CitedFields, first_text

DATE_KEYS = ("issued", "published-print", "published-online", "published")


def person_name(person: dict[str, Any]) -> str | None:
    """A family name, or an organisation's name for group authors."""
    return first_text(person.get("family")) or first_text(person.get("name"))


def family_names(record: dict[str, Any]) -> list[str]:
    people = record.get("author") or record.get("editor") or []
    names = [person_name(p) for p in people if isinstance(p, dict)]
    return [name for name in names if name]


def year_of(date: Any) -> int | None:
    try:
        year = date["date-parts"][0][0]
    except (KeyError, IndexError, TypeError):
        return None
    return year if isinstance(year, int) else None


def registered_years(record: dict[str, Any]) -> set[int]:
    """Years of every registered publication date (a citation may use print or online)."""
    years = {year_of(record.get(key)) for key in DATE_KEYS}
    return {year for year in years if year is not None}


def full_title(record: dict[str, Any]) -> str | None:
    title = first_text(record.get("title"))
    subtitle = first_text(record.get("subtitle"))
    if title and subtitle and subtitle.lower() not in title.lower():
        return f"{title}: {subtitle}"
    return title


def registered_fields(record: dict[str, Any]) -> CitedFields:
    resource = record.get("resource")
    primary = resource.get("primary") if isinstance(resource, dict) else None
    url = primary.get("URL") if isinstance(primary, dict) else None
    doi = record.get("DOI")
    return CitedFields(
        doi=doi.lower() if isinstance(doi, str) else None,
        title=full_title(record),
        authors=family_names(record),
        year=year_of(record.get("issued")) or min(registered_years(record), default=None),
        container=first_text(record.get("container-title")),
        volume=first_text(record.get("volume")),
        issue=first_text(record.get("issue")),
        pages=first_text(record.get("page")) or first_text(record.get("article-number")),
        url=url if isinstance(url, str) else first_text(record.get("URL")),
    )
