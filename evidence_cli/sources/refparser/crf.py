"""Tag references with the trained CRF in numpy: crfsuite's best labels and marginals, in batches.

crfsuite's tagger (through pycrfsuite) took a reference at a time, and turning its ~1,000 feature
strings into C++ strings and attribute ids was about as costly as the scoring itself (#12). Here
the weights are read from the CRF1 model file once; a word's features are summed into one row of
label scores per role (itself, and each of the four neighbours it is to another token) once per
distinct word; and Viterbi and the forward-backward marginals run over many references at once.
tests/test_refparser_crf.py checks the labels and marginals against crfsuite's. Training still
uses python-crfsuite (benchmarks/refparse_train.py).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import compress, pairwise, repeat
from operator import attrgetter, is_

import numpy as np
import numpy.typing as npt

from evidence_cli.sources.refparser.features import (
    CONTEXT,
    NEIGHBOUR_NONE,
    OFFSETS,
    Lexicon,
    Parts,
    WordCache,
    _Word,
    make_word,
    own_features,
    pair_features,
    positions,
    sequence_parts,
    shown_features,
)
from evidence_cli.sources.refparser.tokens import Token

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.intp]

_HEADER = struct.Struct("<4sI4sIIIIIIIII")
_CHUNK = struct.Struct("<4sII")
_CQDB_HEADER = struct.Struct("<4sIIIII")
_CQDB_BYTE_ORDER = 0x62445371
_CQDB_TABLES = 256 * 8  # the hash-table references after a CQDB chunk's header
_RECORD = struct.Struct("<iI")
# One feature of the FEAT chunk: kind (0 state: attribute -> label, 1 transition: label ->
# label), source, destination, weight.
_FEATURE = np.dtype([("kind", "<u4"), ("source", "<u4"), ("target", "<u4"), ("weight", "<f8")])
# References are tagged in chunks of at most this many, of similar lengths (less padding), so
# that the arrays of a chunk stay small (a few MB) however long the section is.
_CHUNK_REFERENCES = 256
_WORDLIKE_OF = attrgetter("wordlike")
_PAIR_PREFIXES = tuple(pair_features("", "")[k].removesuffix("|") for k in range(2))


class ModelError(ValueError):
    """The bytes are not a crfsuite CRF1 model laid out as this reader expects."""


def _cqdb(model: bytes, offset: int, count: int) -> list[str]:
    """The keys of a CQDB chunk (records of id, key size and NUL-terminated key), by id."""
    chunk, size, _, order, _, _ = _CQDB_HEADER.unpack_from(model, offset)
    if chunk != b"CQDB" or order != _CQDB_BYTE_ORDER:
        raise ModelError("no CQDB chunk where the header says")
    keys: list[str | None] = [None] * count
    at = offset + _CQDB_HEADER.size + _CQDB_TABLES
    end = min(offset + size, len(model))
    for _ in range(count):
        key_id, length = _RECORD.unpack_from(model, at)
        start = at + _RECORD.size
        at = start + length
        if length < 1 or at > end or model[at - 1] != 0 or not 0 <= key_id < count:
            raise ModelError("a CQDB record runs past its chunk")
        keys[key_id] = model[start:at - 1].decode("utf-8")
    if any(key is None for key in keys):
        raise ModelError("a CQDB id is missing")
    return [key for key in keys if key is not None]


@dataclass(frozen=True, slots=True)
class Model:
    """A CRF1 model's weights: `state[attribute id, label]` (one more row, of zeros, for the
    attributes the model does not know) and `transition[from, to]`."""

    labels: tuple[str, ...]
    attributes: dict[str, int]
    state: Floats
    transition: Floats

    @property
    def unknown(self) -> int:
        return len(self.attributes)

    def attribute(self, name: str) -> int:
        """The row of an attribute. crfsuite reads an attribute up to its first NUL (a C
        string), so the name is looked up so too."""
        if "\0" in name:
            name = name.split("\0", 1)[0]
        return self.attributes.get(name, len(self.attributes))


def read_model(model: bytes) -> Model:
    """The weights of a crfsuite CRF1 model file (crfsuite's crf1d_model.c lays it out)."""
    try:
        magic, _, kind, _, _, labels_count, attributes_count, features_at, labels_at, \
            attributes_at, _, _ = _HEADER.unpack_from(model)
        if magic != b"lCRF" or kind != b"FOMC":
            raise ModelError("not a crfsuite CRF1 model")
        chunk, _, features_count = _CHUNK.unpack_from(model, features_at)
        if chunk != b"FEAT":
            raise ModelError("no feature chunk where the header says")
        start = features_at + _CHUNK.size
        if start + features_count * _FEATURE.itemsize > len(model):
            raise ModelError("the features run past the end")
        features = np.frombuffer(model, _FEATURE, features_count, start)
        labels = _cqdb(model, labels_at, labels_count)
        attributes = _cqdb(model, attributes_at, attributes_count)
    except struct.error as error:
        raise ModelError(str(error)) from None
    state_rows = features["kind"] == 0
    moves = features["kind"] == 1
    sources, targets = features["source"].astype(np.intp), features["target"].astype(np.intp)
    if (sources[state_rows] >= attributes_count).any() or (targets >= labels_count).any() or \
            (sources[moves] >= labels_count).any():
        raise ModelError("a feature refers to an attribute or label the model does not have")
    state = np.zeros((attributes_count + 1, labels_count))
    state[sources[state_rows], targets[state_rows]] = features["weight"][state_rows]
    transition = np.zeros((labels_count, labels_count))
    transition[sources[moves], targets[moves]] = features["weight"][moves]
    return Model(tuple(labels), {name: k for k, name in enumerate(attributes)}, state,
                 transition)


def _known_pairs(model: Model) -> dict[tuple[str, str], tuple[int, int]]:
    """(before, after) -> the ids of "w-1|w=before|after" and "w|w+1=before|after", for every
    pair the model has either of (the other unknown). A head may hold "|": each split of an
    attribute's name is kept, so that any two heads whose features are that name find it."""
    unknown = model.unknown
    found: dict[tuple[str, str], list[int]] = {}
    for name, k in model.attributes.items():
        for side, prefix in enumerate(_PAIR_PREFIXES):
            if name.startswith(prefix):
                rest = name[len(prefix):]
                at = rest.find("|")
                while at >= 0:
                    found.setdefault((rest[:at], rest[at + 1:]), [unknown, unknown])[side] = k
                    at = rest.find("|", at + 1)
    return {heads: (left, right) for heads, (left, right) in found.items()}


def _known_shown(model: Model) -> dict[str, tuple[int, ...]]:
    """A shown feature -> its ids at each offset ("-2:f", "-1:f", "1:f", "2:f"), for every
    feature the model has at one offset at least (unknown at the others)."""
    unknown = model.unknown
    prefixes = [f"{offset}:" for offset in OFFSETS]
    found: dict[str, list[int]] = {}
    for name, k in model.attributes.items():
        for side, prefix in enumerate(prefixes):
            if name.startswith(prefix):
                found.setdefault(name[len(prefix):], [unknown] * len(prefixes))[side] = k
    return {name: tuple(ids) for name, ids in found.items()}


def _ints(values: Sequence[int]) -> Ints:
    """A list of ints as an array (np.fromiter: a fifth fewer instructions an item than
    np.array, which looks at each item's type and shape)."""
    return np.fromiter(values, np.intp, len(values))


class Tagger:
    """Labels and marginals of token sequences under one model and lexicon."""

    def __init__(self, model: Model, lexicon: Lexicon) -> None:
        self.model = model
        self.lexicon = lexicon
        state = model.state
        self._context = state[[model.attribute(name) for name in CONTEXT] + [model.unknown]]
        # The words seen lately, their features as attribute ids (the model's others dropped:
        # they weigh nothing).
        self._words: WordCache[str, _Word[int]] = WordCache(self._word)
        # Every pair feature the model knows (features.pair_features), by the two heads: a
        # pair it does not know weighs nothing, and is most pairs (#12).
        self._pairs = _known_pairs(model)
        self._no_pair = (model.unknown, model.unknown)
        # Every shown feature the model knows at some offset: its ids as the tokens two after,
        # one after, one before and two before see it ("-2:f", "-1:f", "1:f", "2:f"); most of a
        # word's shown features ("w=1982") it knows at none.
        self._shown = _known_shown(model)
        self._no_shown = (model.unknown,) * len(OFFSETS)
        # A word's rows: its own features, then what it adds to the token two after it, one
        # after, one before and two before; where there is no such token, "-2:none" and so on.
        self._none = np.stack([np.zeros(len(model.labels))] +
                              [state[model.attribute(name)] for name in NEIGHBOUR_NONE])
        self._exp_transition = np.exp(model.transition)
        self._exp_transition_t = np.ascontiguousarray(self._exp_transition.T)
        # Between two rescalings the forward and backward values move by at most
        # exp(spread of the transition weights) times the label count a step (the emissions are
        # at most 1 once shifted): a few such steps stay far inside the doubles' exp(+-700).
        spread = float(np.ptp(model.transition)) + float(np.log(len(model.labels))) + 1.0
        self._rescale_every = max(1, min(8, int(200 / spread)))
        # The context rows: those a sequence length decides, by length (MAX_TOKENS at most);
        # those of each state seen, summed (a few thousand states at most).
        self._position_rows: dict[int, Floats] = {}
        self._state_index: dict[tuple[int, ...], int] = {}
        self._state_rows: list[Floats] = []
        self._states: Floats | None = None

    def _word(self, text: str) -> _Word[int]:
        """A token text's features as attribute ids: those of features._Vocabulary.make, each
        shown one's read from the ids known (no string made for the neighbours)."""
        own = own_features(text, self.lexicon)
        model = self.model
        unknown = model.unknown
        if "\0" in text:  # crfsuite reads an attribute up to a NUL: the slow lookup
            attribute = model.attribute
            own_ids = [attribute(name) for name in own]
            shown = [tuple([attribute(f"{offset}:{name}") for offset in OFFSETS])
                     for name in shown_features(own)]
        else:
            get = model.attributes.get
            own_ids = list(map(get, own, repeat(unknown)))
            missing = self._no_shown
            # The shown features the model knows at no offset (most: "w=1982") dropped first;
            # the rest in C (map, zip, filter): a word is made for every new token (#12).
            shown = [ids for ids in map(self._shown.get, shown_features(own), repeat(missing))
                     if ids is not missing]
        known = unknown.__ne__
        m2, m1, p1, p2 = [tuple(filter(known, column)) for column in zip(*shown, strict=True)] \
            if shown else ((), (), (), ())
        return make_word(tuple(filter(known, own_ids)), (m2, m1, p1, p2), text, "year" in own)

    def _pair_ids(self, heads: tuple[str, str]) -> tuple[int, int]:
        """The attribute ids of two neighbours' pair features, looked up as crfsuite reads
        them (up to a NUL)."""
        left, right = pair_features(*heads)
        return self.model.attribute(left), self.model.attribute(right)

    def tag(self, sequences: Sequence[Sequence[Token]]) -> list[tuple[Ints, Floats]]:
        """For each sequence: its best labels (ids into model.labels) and every token's marginal
        probability of every label."""
        lengths = [len(tokens) for tokens in sequences]
        empty: tuple[Ints, Floats] = (np.zeros(0, np.intp), np.zeros((0, len(self.model.labels))))
        out: list[tuple[Ints, Floats]] = [empty] * len(lengths)
        for chunk, labels, marginals, _ in self._chunks(sequences):
            for row, k in enumerate(chunk):
                out[k] = (labels[row, :lengths[k]], marginals[row, :lengths[k]])
        return out

    def tag_for_fields(self, sequences: Sequence[Sequence[Token]]
                       ) -> tuple[list[int], list[float], list[float], list[float], list[bool]]:
        """The sequences' tokens one after another: each one's best label, its marginal of its
        own label, and the marginals of its label at the nearest word before it and at the
        nearest word after it (punctuation passed over; 0 where there is none): what the
        parser's field reading uses of the marginals, taken from them here at once rather than
        token by token; and whether it is a word (starts with a letter or digit). A field is
        as uncertain as the words beside it might belong to it (in "FXTAS,” Am. J. Med." the
        doubt whether the journal starts at "Am" sits on "Am", not on the period before "J",
        #11)."""
        lengths = [len(tokens) for tokens in sequences]
        starts = np.cumsum([0, *lengths])
        count = int(starts[-1])
        best = np.zeros(count, dtype=np.intp)
        own, before, after = np.zeros(count), np.zeros(count), np.zeros(count)
        words = np.zeros(count, dtype=bool)
        for chunk, labels, marginals, wordlike_flat in self._chunks(sequences):
            sizes = np.array([lengths[k] for k in chunk], dtype=np.intp)
            width = labels.shape[1]
            steps_row = np.arange(width)
            inside = steps_row[None, :] < sizes[:, None]
            rows, steps = np.nonzero(inside)  # the chunk's tokens one after another
            # The flags as bytes, read as booleans: np.array looks at each item (#12).
            flags = np.frombuffer(bytes(wordlike_flat), dtype=bool)
            wordlike = np.zeros((len(chunk), width), dtype=bool)
            wordlike[rows, steps] = flags
            # The nearest word before each token (-1: none) and after it (width: none).
            seen = np.maximum.accumulate(np.where(wordlike, steps_row, -1), axis=1)
            word_before = np.concatenate([np.full((len(chunk), 1), -1), seen[:, :-1]], axis=1)
            coming = np.minimum.accumulate(np.where(wordlike, steps_row, width)[:, ::-1],
                                           axis=1)[:, ::-1]
            word_after = np.concatenate([coming[:, 1:], np.full((len(chunk), 1), width)],
                                        axis=1)
            flat = starts[np.array(chunk, dtype=np.intp)][rows] + steps
            here = labels[rows, steps]
            best[flat] = here
            words[flat] = flags
            own[flat] = marginals[rows, steps, here]
            k_before = word_before[rows, steps]
            before[flat] = np.where(k_before >= 0,
                                    marginals[rows, np.maximum(k_before, 0), here], 0.0)
            k_after = word_after[rows, steps]
            after[flat] = np.where(k_after < width,
                                   marginals[rows, np.minimum(k_after, width - 1), here], 0.0)
        return best.tolist(), own.tolist(), before.tolist(), after.tolist(), words.tolist()

    def _chunks(self, sequences: Sequence[Sequence[Token]]
                ) -> Iterator[tuple[list[int], Ints, Floats, list[bool]]]:
        """(the indexes of the sequences of a chunk, their best labels and marginals padded to
        the chunk's longest, whether each of their tokens is a word, one after another), for
        every non-empty sequence, chunk by chunk."""
        lengths = [len(tokens) for tokens in sequences]
        # Sequences of like lengths together: less padding.
        order = sorted([k for k, n in enumerate(lengths) if n], key=lengths.__getitem__)
        for at in range(0, len(order), _CHUNK_REFERENCES):
            chunk = order[at:at + _CHUNK_REFERENCES]
            scores, wordlike = self._scores([sequences[k] for k in chunk])
            labels, marginals = self._decode(scores, np.array([lengths[k] for k in chunk],
                                                              dtype=np.intp))
            yield chunk, labels, marginals, wordlike

    def scores(self, sequences: Sequence[Sequence[Token]]) -> Floats:
        """Each token's score of each label (the sum of its features' weights), the sequences'
        tokens one after another."""
        return self._scores(sequences)[0]

    def _scores(self, sequences: Sequence[Sequence[Token]]) -> tuple[Floats, list[bool]]:
        """scores, and whether each token is a word (starts with a letter or a digit), read
        from its word on the way (#12: the parser read each token's text again for it)."""
        wordlike: list[bool] = []
        model = self.model
        local: dict[str, int] = {}
        ids: list[int] = []
        sizes: list[int] = []
        words: list[int] = []
        glued_left: list[int] = []
        glued_right: list[int] = []
        states: list[int] = []  # each token's state, as an index into self._state_rows
        sentences: list[int] = []  # and its sentence's slots (#11), likewise
        sentence_starts: list[int] = []  # the first token of a sentence, or NO_FEATURE
        blocks: list[Floats] = []  # each sequence's rows of the slots its length decides
        state_index = self._state_index
        lefts: list[int] = []  # each token's "w-1|w=" pair with the token before
        rights: list[int] = []  # and "w|w+1=" with the one after
        pair_get = self._pairs.get
        no_pair = self._no_pair
        unknown = model.unknown
        words_cache = self._words
        for tokens in sequences:
            parts: Parts = sequence_parts(tokens, words_cache)
            texts = parts.texts
            indexes = list(map(local.get, texts))
            if None in indexes:  # words not yet in this chunk: their rows are summed below
                made_words = parts.words
                # Those tokens only, found in C (#12).
                for i in compress(range(len(indexes)), map(is_, indexes, repeat(None))):
                    text = texts[i]
                    index = local.get(text)
                    if index is None:
                        index = local[text] = len(local) + 1  # 0: no neighbour there
                        made = made_words[i]
                        ids += made.flat  # its own features, then what it shows each neighbour
                        sizes += made.sizes
                    indexes[i] = index
            words += indexes  # type: ignore[arg-type]  # no None is left
            wordlike += map(_WORDLIKE_OF, parts.words)
            context = parts.context
            blocks.append(self._positions(context.count))
            glued_left += context.glued_left
            glued_right += context.glued_right
            sentence_starts += context.segment_starts
            for runs, into in ((context.states, states), (context.segments, sentences)):
                for (start, state), (end, _) in zip(runs, [*runs[1:], (context.count, ())],
                                                    strict=True):
                    index = state_index.get(state)
                    if index is None:
                        index = self._add_state(state)
                    into += [index] * (end - start)
            heads = parts.heads
            if "\0" in "".join(heads):  # crfsuite reads an attribute up to a NUL
                pairs = list(map(self._pair_ids, pairwise(heads)))
            else:
                pairs = list(map(pair_get, pairwise(heads), repeat(no_pair)))
            lefts.append(unknown)
            rights_here: tuple[int, ...] = ()
            if pairs:
                lefts_here, rights_here = zip(*pairs, strict=True)
                lefts += lefts_here
            rights += rights_here
            rights.append(unknown)
        # A word's five rows one after another (row 5 * word + role), the "none" rows first.
        # Rows are gathered with np.take, a copy of whole rows, cheaper than the general
        # fancy indexing of table[rows, role] (#12); the sums are the same, in the same order.
        table = np.concatenate([self._none, self._segment_sums(ids, sizes)])
        rows = _ints(words)
        count = len(rows)
        lengths = _ints([len(tokens) for tokens in sequences])
        starts = np.cumsum(lengths) - lengths
        place = np.arange(count) - np.repeat(starts, lengths)  # the token's index in its sequence
        length = np.repeat(lengths, lengths)
        five = rows * 5
        # mode="clip": every index is in range, and take then writes into `out` directly
        # (mode="raise" goes through a buffer, a copy more).
        out: Floats = np.take(table, five, axis=0)
        gathered = np.empty_like(out)
        for role, offset in ((1, -2), (2, -1), (3, 1), (4, 2)):
            there = place + offset
            inside = (there >= 0) & (there < length)
            np.take(table, np.where(inside, np.roll(five, -offset), 0) + role, axis=0,
                    out=gathered, mode="clip")
            out += gathered
        out += np.concatenate(blocks)
        states_table = self._state_table()
        for weights, slots in ((self._context, glued_left), (self._context, glued_right),
                               (self._context, sentence_starts), (states_table, states),
                               (states_table, sentences), (model.state, lefts),
                               (model.state, rights)):
            np.take(weights, _ints(slots), axis=0, out=gathered, mode="clip")
            out += gathered
        return out, wordlike

    def _positions(self, count: int) -> Floats:
        """The sum of the rows of the slots a sequence's length decides, for each token."""
        found = self._position_rows.get(count)
        if found is None:
            found = self._position_rows[count] = sum(
                (self._context[np.array(column, dtype=np.intp)]
                 for column in positions(count)), np.zeros((count, len(self.model.labels))))
        return found

    def _add_state(self, state: tuple[int, ...]) -> int:
        """A new state's index, its row the sum of its slots': six of a state (at most 3,402
        states), eight of a sentence (#11)."""
        index = self._state_index[state] = len(self._state_rows)
        self._state_rows.append(self._context[list(state)].sum(axis=0))
        self._states = None
        return index

    def _state_table(self) -> Floats:
        if self._states is None:
            self._states = np.stack(self._state_rows)
        return self._states

    def _segment_sums(self, ids: list[int], sizes: list[int]) -> Floats:
        """The sum of the state rows of each run of `ids` (`sizes` long each, some empty)."""
        labels = len(self.model.labels)
        out = np.zeros((len(sizes), labels))
        lengths = _ints(sizes)
        filled = np.flatnonzero(lengths)
        if len(filled):
            rows = np.take(self.model.state, _ints(ids), axis=0)
            starts = (np.cumsum(lengths) - lengths)[filled]
            # reduceat sums from each start to the next one: the empty runs between add nothing.
            out[filled] = np.add.reduceat(rows, starts, axis=0)
        return out

    def _decode(self, flat: Floats, sizes: Ints) -> tuple[Ints, Floats]:
        """Viterbi and forward-backward over a chunk of sequences (their tokens one after
        another in `flat`), padded to the longest."""
        longest = int(sizes.max())
        steps = np.arange(longest)
        real = len(sizes)
        # Rows of zeros up to a multiple of 4 (see _marginals), dropped after; as long as the
        # shortest sequence, so that the recursions still know every row goes on until then.
        sizes = np.concatenate([sizes, np.full(-real % 4, sizes.min(), dtype=np.intp)])
        inside = steps[None, :] < sizes[:, None]
        first = np.cumsum(sizes) - sizes
        where = np.where(inside, first[:, None] + steps[None, :], len(flat))
        where[real:] = len(flat)
        scores = np.take(np.concatenate([flat, np.zeros((1, flat.shape[1]))]), where,
                         axis=0)  # (B, T, L)
        return self._viterbi(scores, sizes)[:real], self._marginals(scores, sizes)[:real]

    def _viterbi(self, scores: Floats, sizes: Ints) -> Ints:
        """crfsuite's crf1dc_viterbi over the chunk: the same sums, and on a tie the first
        label (crfsuite keeps the first maximum; so does argmax)."""
        into = np.ascontiguousarray(self.model.transition.T)[None, :, :]  # [., to, from]
        count, longest, labels = scores.shape
        # Where each candidate row's maximum is in the flattened candidates (a 1-D take is
        # faster than a 2-D fancy index).
        row_starts = np.arange(count * labels) * labels
        shortest = int(sizes.min())  # before it every sequence of the chunk goes on
        best = scores[:, 0].copy()
        back = np.empty(scores.shape, dtype=np.intp)  # [:, 0] is never read
        for t in range(1, longest):
            candidates = (best[:, None, :] + into).reshape(count * labels, labels)
            came = candidates.argmax(axis=1)
            reached = np.take(candidates, row_starts + came).reshape(count, labels) + scores[:, t]
            back[:, t] = came.reshape(count, labels)
            best = reached if t < shortest else np.where((t < sizes)[:, None], reached, best)
        out = np.empty((count, longest), dtype=np.intp)  # every step is written
        rows = np.arange(count) * (longest * labels)  # where each row's back pointers start
        current = best.argmax(axis=1)
        for t in range(longest - 1, -1, -1):
            if t < longest - 1:
                came = np.take(back, rows + (t + 1) * labels + current)
                current = came if t < shortest - 1 else np.where(t < sizes - 1, came, current)
            out[:, t] = current
        return out

    def _marginals(self, scores: Floats, sizes: Ints) -> Floats:
        """Every token's marginal of every label, by the forward-backward recursions (crfsuite
        scales them at every step; here every few steps: the scales cancel out in the
        marginals, and the steps between are too few for the values to leave the doubles'
        range), each token's scores first shifted by their maximum (the same probabilities, no
        overflow). A matrix product of a row count that is a multiple of 4 (_decode pads to
        one): OpenBLAS then sums each row the same way whatever the other rows, so that a
        reference's marginals do not depend on the others tagged with it
        (tests/test_refparser_crf.py checks)."""
        emit = np.exp(scores - scores.max(axis=2, keepdims=True))
        move = self._exp_transition
        into = self._exp_transition_t
        every = self._rescale_every
        count, longest, labels = scores.shape
        forward = np.empty(scores.shape)
        alpha = emit[:, 0]
        forward[:, 0] = alpha
        for t in range(1, longest):
            alpha = (alpha @ move) * emit[:, t]
            if t % every == 0:
                alpha /= alpha.sum(axis=1, keepdims=True)
            forward[:, t] = alpha
        backward = np.empty(scores.shape)
        beta = np.ones((count, labels))
        backward[:, longest - 1] = beta
        last = (sizes - 1)[:, None]
        shortest = int(sizes.min())
        for t in range(longest - 2, -1, -1):
            after = (emit[:, t + 1] * beta) @ into
            if t % every == 0:
                after /= after.sum(axis=1, keepdims=True)
            beta = after if t < shortest - 1 else np.where(t < last, after, 1.0)
            backward[:, t] = beta
        joint = forward * backward
        marginals: Floats = joint / joint.sum(axis=2, keepdims=True)
        return marginals
