"""The reference parser's fast paths give what the model was trained on and what crfsuite reads:
featurize's strings against the plain per-token formulation it replaced, and the numpy tagger's
label scores against the weights of those strings (tests/test_refparser_crf.py compares its
labels and marginals with crfsuite's).

The references are written here by hand, in the forms the styles print (constructed fixtures).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from importlib import resources

import pycrfsuite
import pytest

from evidence_cli.doi import strip_trailing_punctuation
from evidence_cli.sources.refparser import features, parser
from evidence_cli.sources.refparser import tokens as tokens_module
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
    own = [features.own_features(t.text, lexicon) for t in tokens]
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
        fs.extend(_plain_segment(tokens, own, i))
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


def test_the_tagger_scores_are_the_weights_of_featurize_strings() -> None:
    """The numpy tagger reads each token's features as attribute ids through the same
    formulation (features.sequence_parts): its label scores are the sums of the weights of
    featurize's strings (crfsuite reads an attribute up to a NUL, the model has no weight for
    some)."""
    lexicon = parser._metadata()["lexicon"]
    tagger = parser._tagger()
    model = tagger.model
    for _ in range(2):  # the second time from the words made the first time
        for tokens in _sequences():
            if not tokens:
                continue
            plain = _plain_featurize(tokens, lexicon)
            want = [sum((model.state[model.attribute(f)] for f in fs), 0 * model.state[0])
                    for fs in plain]
            got = tagger.scores([tokens])
            assert got.shape == (len(tokens), len(model.labels))
            for row, expected in zip(got, want, strict=True):
                assert row == pytest.approx(expected, abs=1e-12)


def test_token_probabilities_are_the_marginals_of_their_labels() -> None:
    lexicon = parser._metadata()["lexicon"]
    tagger = _crfsuite()
    for text in REFERENCES[:5]:
        parser.clear_memo()
        parsed = parser.parse_labelled(text)
        tagger.set(features.featurize(parsed.text, tokenize(parsed.text), lexicon))
        assert [t.label for t in parsed.tokens] == tagger.tag()
        assert [t.probability for t in parsed.tokens] == pytest.approx(
            [tagger.marginal(t.label, i) for i, t in enumerate(parsed.tokens)], abs=1e-9)


# crfsuite reads a model in place: its bytes must outlive every tagger opened on them.
_MODEL = resources.files(parser.__package__).joinpath(parser.MODEL_FILE).read_bytes()


def _crfsuite() -> pycrfsuite.Tagger:
    tagger = pycrfsuite.Tagger()
    tagger.open_inmemory(_MODEL)
    return tagger


def test_a_text_parsed_again_is_the_same_parse() -> None:
    parser.clear_memo()
    first = parser.parse_labelled(REFERENCES[0])
    assert parser.parse_labelled(REFERENCES[0]) is first
    parser.clear_memo()
    again = parser.parse_labelled(REFERENCES[0])
    assert again is not first and again == first


def _plain_tokenize(text: str) -> list[Token]:
    """tokenize as it was before #12: the scan for links and DOIs from the start of the text."""
    out: list[Token] = []
    position = 0
    for match in tokens_module._ATOMIC.finditer(text):
        value = strip_trailing_punctuation(match.group(0))
        if not value:
            continue
        tokens_module._pieces(text, position, match.start(), out)
        out.append(Token(value, match.start(), match.start() + len(value)))
        position = match.start() + len(value)
    tokens_module._pieces(text, position, len(text), out)
    return out


def test_tokenize_from_the_first_link_or_doi_gives_the_same_tokens() -> None:
    """tokenize scans for links and DOIs from the first "http", "www." or "10." (#12)."""
    rng = random.Random(2)
    pieces = ["doi:", "https://doi.org/", "10.", "10.1234/ab", "x10.5/q", "HTTP://a.b/c",
              "www.x.org", "wwww.a.b", "İ", " ", "ab", ".", "(", ")", "1"]
    texts = [*REFERENCES, *("".join(rng.choice(pieces) for _ in range(rng.randint(1, 15)))
                            for _ in range(5000))]
    for text in texts:
        assert tokenize(text) == _plain_tokenize(text), text
