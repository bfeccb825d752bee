"""The numpy tagger (refparser/crf.py) gives crfsuite's labels and marginals (#12).

Both run on the same references: anystyle-core.xml's 1,514 (the shared data, where present),
the references of the other parser tests and constructed edge cases. Labels must be identical and
marginals within 1e-9; at every Viterbi step the best label must beat the next by more than
1e-9, so that no tie (where summing in another order could pick another label) decides a label.
The model file's weights are read at full precision (pycrfsuite's info() rounds them).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from importlib import resources

import numpy as np
import pycrfsuite
import pytest

from benchmarks.refparse_data import ANYSTYLE, load_anystyle
from evidence_cli.sources.refparser import crf, features, parser
from evidence_cli.sources.refparser.tokens import Token, tokenize
from tests.test_refparser_features import REFERENCES

EDGES = [
    "x", ".", "2011", "Smith", "Smith J", "((((", "“", "a " * 700,  # past MAX_TOKENS
    "Hamlin A, Liu Y. Sleep apnea in fragile X premutation carriers with and without FXTAS. "
    "Am J Med Genet B. 2011;156(8):923-8. doi:10.1002/ajmg.b.31237",
    "Müller, K. & Østergaard, B. (2019). Über die Dinge. Zeitschrift für Dinge, 12(3), 1–20.",
    "NUL\0inside a token, and \0 alone, 2011.",
]


# crfsuite reads a model in place: its bytes must outlive every tagger opened on them.
_MODEL = resources.files(parser.__package__).joinpath(parser.MODEL_FILE).read_bytes()


def _model_bytes() -> bytes:
    return _MODEL


def _texts() -> list[str]:
    texts = [*REFERENCES, *EDGES]
    if ANYSTYLE.exists():
        texts += [ref.text for ref in load_anystyle()]
    return list(dict.fromkeys(texts))


def _crfsuite(sequences: Sequence[list[Token]]) -> list[tuple[list[str], np.ndarray]]:
    tagger = pycrfsuite.Tagger()
    tagger.open_inmemory(_model_bytes())
    labels = tagger.labels()
    lexicon = parser._metadata()["lexicon"]
    out = []
    for tokens in sequences:
        tagger.set(features.featurize("", tokens, lexicon))
        best = tagger.tag()
        out.append((best, np.array([[tagger.marginal(label, i) for label in labels]
                                    for i in range(len(tokens))])))
    return out


def test_the_labels_and_marginals_are_crfsuites() -> None:
    texts = _texts()
    sequences = [tokenize(text)[:parser.MAX_TOKENS] for text in texts]
    sequences = [tokens for tokens in sequences if tokens]
    tagger = parser._tagger()
    names = tagger.model.labels
    assert list(names) == _crfsuite_labels()  # so the marginals' columns are in one order
    # Tagged all together, and in small batches of other company: the same either way.
    together = tagger.tag(sequences)
    alone = [tagger.tag([tokens])[0] for tokens in sequences[:200]]
    want = _crfsuite(sequences)
    for k, ((best, marginals), (labels, probabilities)) in enumerate(
            zip(together, want, strict=True)):
        assert [names[i] for i in best] == labels, k
        assert np.abs(marginals - probabilities).max() < 1e-9, k
    for (best, marginals), (again, again_marginals) in zip(together, alone, strict=False):
        assert best.tolist() == again.tolist()
        assert marginals.tobytes() == again_marginals.tobytes()  # to the last bit


def _crfsuite_labels() -> list[str]:
    tagger = pycrfsuite.Tagger()
    tagger.open_inmemory(_model_bytes())
    labels: list[str] = tagger.labels()
    return labels


def test_no_viterbi_step_is_a_tie() -> None:
    """crfsuite keeps the first of equal maxima, as argmax does; no step comes near a tie."""
    texts = _texts()
    tagger = parser._tagger()
    into = tagger.model.transition.T
    closest = np.inf
    for text in texts:
        tokens = tokenize(text)[:parser.MAX_TOKENS]
        if not tokens:
            continue
        scores = tagger.scores([tokens])
        best = scores[0]
        for t in range(1, len(tokens)):
            candidates = np.sort(best[None, :] + into, axis=1)  # [to, from]
            closest = min(closest, float((candidates[:, -1] - candidates[:, -2]).min()))
            best = candidates[:, -1] + scores[t]
        last = np.sort(best)
        closest = min(closest, float(last[-1] - last[-2]))
    assert closest > 1e-9


def test_the_model_file_is_read_as_crfsuite_reads_it() -> None:
    model = crf.read_model(_model_bytes())
    tagger = pycrfsuite.Tagger()
    tagger.open_inmemory(_model_bytes())
    info = tagger.info()
    assert list(model.labels) == tagger.labels()
    assert set(model.attributes) == set(info.attributes)
    # info() prints the weights with six decimals; the file holds doubles.
    state = {(name, model.labels[label]): float(model.state[k, label])
             for name, k in model.attributes.items() for label in range(len(model.labels))
             if model.state[k, label] != 0}
    assert state.keys() == info.state_features.keys()
    assert all(abs(state[key] - weight) < 1e-6 for key, weight in info.state_features.items())
    assert all(abs(model.transition[model.labels.index(a), model.labels.index(b)] - weight)
               < 1e-6 for (a, b), weight in info.transitions.items())
    assert not model.state[model.unknown].any()


@pytest.mark.parametrize("damaged", [b"", b"lCRF", b"not a model at all" * 10])
def test_a_model_laid_out_otherwise_is_refused(damaged: bytes) -> None:
    with pytest.raises(crf.ModelError):
        crf.read_model(damaged)


def test_a_model_cut_short_is_refused() -> None:
    model = _model_bytes()
    features_at, labels_at, attributes_at = struct.unpack_from("<III", model, 28)
    for end in (100, features_at + 1000, labels_at + 100, attributes_at + 5000):
        with pytest.raises(crf.ModelError):
            crf.read_model(model[:end])


def test_a_batch_parses_as_each_text_alone() -> None:
    texts = [*REFERENCES, *EDGES, REFERENCES[0]]  # one twice
    parser.clear_memo()
    together = parser.parse_many(texts)
    for text, parsed in zip(texts, together, strict=True):
        parser.clear_memo()
        assert parser.parse_labelled(text) == parsed
    assert together[0] is together[-1]


def test_references_read_together_are_those_read_one_at_a_time() -> None:
    """Within parsing_together() a reader's entries are parsed at its end, all at once: the
    references are the same as one at a time, an id numbered meanwhile stays."""
    from evidence_cli.models import CitedFields
    from evidence_cli.sources.text import parsing_together, reference_from_text

    entries = [text for text in [*REFERENCES, *EDGES] if text.strip()]
    parser.clear_memo()
    alone = [reference_from_text(text, "refs.md", line) for line, text in enumerate(entries)]
    parser.clear_memo()
    with parsing_together():
        together = [reference_from_text(text, "refs.md", line)
                    for line, text in enumerate(entries)]
        assert all(ref.cited == CitedFields() for ref in together)  # not parsed yet
        together[1].id += "#2"
    alone[1].id += "#2"
    assert together == alone
