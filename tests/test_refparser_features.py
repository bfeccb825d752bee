"""The reference parser's fast paths give what the model was trained on and what crfsuite reads:
featurize's strings against the plain per-token formulation it replaced, the tagger's encoded and
filtered features against featurize's, the model's attribute dictionary against crfsuite's own
dump, and the tags and marginals with and without the attributes the model has no weight for.

The references are written here by hand, in the forms the styles print (constructed fixtures).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from importlib import resources

import pytest

from evidence_cli.sources.refparser import features, parser
from evidence_cli.sources.refparser.tokens import Token, tokenize

TITLE = "Sleep apnea in fragile X premutation carriers with and without FXTAS"
REFERENCES = [
    f"Hamlin A, Liu Y, Nguyen DV, et al. {TITLE}. Am J Med Genet B. 2011;156(8):923-928.",
    f"[1] A. Hamlin, Y. Liu, and D. V. Nguyen, “{TITLE},” Am. J. Med. Genet. B, vol. 156, "
    "no. 8, pp. 923–928, Dec. 2011, doi: 10.1002/ajmg.b.31237.",
    f'Hamlin, Alyssa, et al. "{TITLE}." American Journal of Medical Genetics, vol. 156, '
    "no. 8, 2011, pp. 923-28. https://www.example.org/articles/hamlin-2011?ref=list",
    "Stöckl, A. T. & Bohnenkamp, H. A. Sharp acoustic ribs cause shock waves. Nature 450, "
    "1214–1217 (2007).",
    "Helyer R, Price A (2016) Learning to learn. In: Smith J, Jones K (eds) Facilitating "
    "work-based learning. Palgrave Macmillan, London, pp 207–226",
    "He, L., Pan, J., Li, D., & Manocha, D. (2016a). ‘Efficient penetration’ depth: «Proc.» "
    "[IEEE] {x} ² ¹ 12345678901 1500 2039 mars 2021Tradução.",
    "(((( )))) \"quoted\" 'single' … — – - , , , , , , , , , , . . . . . . . . ! ?",
    "NUL\0inside a token, and \0 alone, 2011.",
    "",
    "x",
]


def _plain_featurize(tokens: Sequence[Token], lexicon: features.Lexicon) -> list[list[str]]:
    """featurize as it was written before #12, one token at a time (kept to pin the strings)."""
    own = [features._own(t.text, lexicon) for t in tokens]
    shown = [[f for f in fs if f.startswith(features._SHOWN_PREFIXES) or f in features._SHOWN]
             for fs in own]
    count = len(tokens)
    out: list[list[str]] = []
    depth = 0
    quoted = False
    years = periods = commas = closed_quotes = 0
    for i, token in enumerate(tokens):
        fs = list(own[i])
        fs.append(f"pos={10 * i // max(count, 1)}")
        if i == 0:
            fs.append("first")
        if i == count - 1:
            fs.append("last")
        if i > 0 and token.start == tokens[i - 1].end:
            fs.append("glued_left")
        if i + 1 < count and tokens[i + 1].start == token.end:
            fs.append("glued_right")
        fs.append(f"depth={min(depth, 2)}")
        if quoted:
            fs.append("in_quote")
        fs.append(f"years_before={min(years, 2)}")
        fs.append(f"periods_before={min(periods, 6)}")
        fs.append(f"commas_before={min(commas, 8)}")
        fs.append(f"quotes_closed={min(closed_quotes, 2)}")
        fs.append(f"to_end={features._bucket(count - i)}")
        for offset in (-2, -1, 1, 2):
            j = i + offset
            if 0 <= j < count:
                fs.extend(f"{offset}:{f}" for f in shown[j])
            else:
                fs.append(f"{offset}:none")
        if i > 0:
            fs.append(f"w-1|w={tokens[i - 1].text.lower()[:12]}|{token.text.lower()[:12]}")
        if i + 1 < count:
            fs.append(f"w|w+1={token.text.lower()[:12]}|{tokens[i + 1].text.lower()[:12]}")
        fs.extend(_plain_segment(tokens, own, i))
        out.append(fs)
        char = token.text
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth = max(0, depth - 1)
        elif char in features._QUOTES_OPEN and not quoted and (
                i + 1 < count and tokens[i + 1].start == token.end):
            quoted = True
        elif char in features._QUOTES_CLOSE and quoted:
            quoted = False
            closed_quotes += 1
        elif char == ",":
            commas += 1
        if "year" in own[i]:
            years += 1
        if char in ".?!" and i + 1 < count and tokens[i + 1].start > token.end:
            previous = tokens[i - 1].text if i else ""
            if len(previous) > 1 or previous.isdigit():
                periods += 1
    return out


def _plain_segment(tokens: Sequence[Token], own: list[list[str]], i: int) -> list[str]:
    """Token i's sentence features (#11), found by walking to its sentence's ends."""
    def ends_sentence(j: int) -> bool:
        return (tokens[j].text in ".?!;" and j + 1 < len(tokens)
                and tokens[j + 1].start > tokens[j].end)

    def sentences() -> list[list[int]]:
        out: list[list[int]] = [[]]
        for j in range(len(tokens)):
            out[-1].append(j)
            if ends_sentence(j) and j + 1 < len(tokens):
                out.append([])
        return out

    all_sentences = sentences()
    index = next(k for k, members in enumerate(all_sentences) if i in members)
    members = all_sentences[index]

    def digits(k: int) -> bool:
        return any(tokens[j].text.isdecimal() for j in all_sentences[k])

    def year(k: int) -> bool:
        return any("year" in own[j] for j in all_sentences[k])

    quotes = features._QUOTES_OPEN | features._QUOTES_CLOSE
    fs = [f"seg={min(index, 5)}", f"seg_left={min(len(all_sentences) - 1 - index, 5)}",
          f"seg_size={features._bucket(len(members))}"]
    fs += [name for name, on in (
        ("seg_digits", digits(index)), ("seg_year", year(index)),
        ("next_seg_digits", index + 1 < len(all_sentences) and digits(index + 1)),
        ("prev_seg_year", index > 0 and year(index - 1)),
        ("seg_quote", any(tokens[j].text in quotes for j in members)),
        ("seg_start", members[0] == i)) if on]
    return fs


def _sequences() -> list[list[Token]]:
    """Every reference's tokens, whole and cut short (one, two and three tokens, where the
    neighbour features run out)."""
    out: list[list[Token]] = []
    for text in REFERENCES:
        tokens = tokenize(text)
        out += [tokens, tokens[:1], tokens[:2], tokens[:3], tokens[5:]]
    return out


def test_featurize_gives_the_strings_the_model_was_trained_on() -> None:
    lexicon = parser._metadata()["lexicon"]
    for _ in range(2):  # the second time from the words made the first time
        for tokens in _sequences():
            assert features.featurize("", tokens, lexicon) == _plain_featurize(tokens, lexicon)


def test_another_lexicon_gets_its_own_words() -> None:
    """Training builds its own lexicon: the words made with the shipped one are not reused."""
    shipped = parser._metadata()["lexicon"]
    other = {"sleep": ["lex=title", "top=title"], "nature": ["top=container"]}
    for lexicon in (shipped, other, shipped):
        for tokens in _sequences():
            assert features.featurize("", tokens, lexicon) == _plain_featurize(tokens, lexicon)


def test_the_tagger_gets_the_same_features_encoded_without_the_unknown_ones() -> None:
    lexicon = parser._metadata()["lexicon"]
    _, _, known = parser._loaded()
    assert known
    for tokens in _sequences():
        plain = _plain_featurize(tokens, lexicon)
        # A token with a NUL keeps every feature: crfsuite reads an attribute up to the NUL.
        want = [[f.encode() for f in fs if f.encode() in known or "\0" in f] for fs in plain]
        assert features.model_features(tokens, lexicon, known) == want
        assert features.model_features(tokens, lexicon, None) == \
            [[f.encode() for f in fs] for fs in plain]


def test_the_model_attributes_are_those_crfsuite_dumps() -> None:
    tagger, model, known = parser._loaded()
    assert known == frozenset(a.encode() for a in tagger.info().attributes)
    assert parser.model_attributes(model) == known


@pytest.mark.parametrize("damaged", [b"", b"lCRF", b"not a model at all" * 10])
def test_a_model_laid_out_otherwise_gives_no_attributes(damaged: bytes) -> None:
    assert parser.model_attributes(damaged) is None

def test_a_model_cut_short_gives_no_attributes() -> None:
    model = resources.files(parser.__package__).joinpath(parser.MODEL_FILE).read_bytes()
    dictionary = struct.unpack_from("<I", model, 36)[0]  # the header's offset of the attributes
    for end in (100, dictionary + 10, dictionary + 5000):
        assert parser.model_attributes(model[:end]) is None


def test_dropping_the_unknown_attributes_changes_no_tag_and_no_marginal() -> None:
    lexicon = parser._metadata()["lexicon"]
    tagger, _, known = parser._loaded()
    labels = tagger.labels()
    for text in REFERENCES:
        tokens = tokenize(text)
        if not tokens:
            continue
        seen = []
        for xseq in (features.featurize(text, tokens, lexicon),
                     features.model_features(tokens, lexicon, known)):
            tagger.set(xseq)
            best = tagger.tag()
            seen.append((best, [[tagger.marginal(label, i) for label in labels]
                                for i in range(len(tokens))]))
        assert seen[0] == seen[1]


def test_token_probabilities_are_the_marginals_of_their_labels() -> None:
    lexicon = parser._metadata()["lexicon"]
    tagger, _, _ = parser._loaded()
    for text in REFERENCES[:5]:
        parser.clear_memo()
        parsed = parser.parse_labelled(text)
        tagger.set(features.featurize(parsed.text, tokenize(parsed.text), lexicon))
        assert [t.label for t in parsed.tokens] == tagger.tag()
        assert [t.probability for t in parsed.tokens] == \
            [tagger.marginal(t.label, i) for i, t in enumerate(parsed.tokens)]


def test_a_text_parsed_again_is_the_same_parse() -> None:
    parser.clear_memo()
    first = parser.parse_labelled(REFERENCES[0])
    assert parser.parse_labelled(REFERENCES[0]) is first
    parser.clear_memo()
    again = parser.parse_labelled(REFERENCES[0])
    assert again is not first and again == first
