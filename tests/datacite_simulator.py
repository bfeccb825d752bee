"""A local DataCite REST API simulator: GET /dois/{doi} over real sockets.

Serves the recorded exchanges in tests/fixtures/datacite/exchanges.jsonl (from commonmeta-py's
cassettes) with their recorded status, content type and body, plus the constructed record in
constructed.jsonl (says so in its `source`). A DOI it does not hold gets 404 with DataCite's
JSON:API errors body; past `rate` requests per second it answers 429 (DataCite allows 3,000 per
5 minutes). Query parameters (include=media,client ...) are accepted and ignored.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from tests.apisim import ApiSimulator, Reply

FIXTURES = Path(__file__).parent / "fixtures" / "datacite"
NOT_FOUND = json.dumps({"errors": [{"status": "404", "title": "The resource you are looking for "
                                    "doesn't exist."}]}).encode()
JSON_API_TYPE = "application/vnd.api+json; charset=utf-8"


def _load() -> dict[str, Reply]:
    held: dict[str, Reply] = {}
    for name in ("exchanges.jsonl", "constructed.jsonl"):
        for line in (FIXTURES / name).read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            exchange: dict[str, Any] = json.loads(line)
            doi = unquote(urlsplit(exchange["uri"]).path)[len("/dois/"):].lower()
            content_type = exchange["headers"].get("content-type", "application/json")
            held[doi] = Reply(int(exchange["status"]), content_type,
                              exchange["body"].encode("utf-8"))
    return held


class DataCiteSimulator(ApiSimulator):
    name = "datacite-sim"

    def __init__(self, *, rate: int = 10, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.rate = rate
        self.records = _load()

    def add_record(self, attributes: dict[str, Any]) -> None:
        doi = str(attributes["doi"]).lower()
        body = json.dumps({"data": {"id": doi, "type": "dois", "attributes": attributes}})
        self.records[doi] = Reply(200, "application/json; charset=utf-8", body.encode())

    def rate_for(self, params: list[tuple[str, str]]) -> tuple[str, int, Reply]:
        body = json.dumps({"errors": [{"status": "429", "title": "Too Many Requests"}]}).encode()
        return "ip", self.rate, Reply(429, JSON_API_TYPE, body, (("retry-after", "1"),))

    def answer(self, path: str, params: list[tuple[str, str]]) -> Reply:
        decoded = unquote(path)
        if not decoded.startswith("/dois/"):
            return Reply(404, JSON_API_TYPE, NOT_FOUND)
        doi = decoded[len("/dois/"):].lower()
        return self.records.get(doi) or Reply(404, JSON_API_TYPE, NOT_FOUND)
