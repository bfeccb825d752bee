"""The learned reference parser: a CRF over a reference's tokens, with per-field confidence.

`parse_labelled(text)` gives every token's label and marginal probability, and every field's
value, character spans and confidence; evidence_cli.sources.freetext.parse_reference keeps the
confident fields. Importing this package loads neither crfsuite nor the model.
"""

from __future__ import annotations

from evidence_cli.sources.refparser.parser import (
    FIELDS,
    LabelledToken,
    ParsedField,
    ParsedReference,
    model_info,
    parse_labelled,
)

__all__ = ["FIELDS", "LabelledToken", "ParsedField", "ParsedReference", "model_info",
           "parse_labelled"]
