"""Stage 6: special tokens, with tiktoken's rules for ``allowed_special`` and ``disallowed_special``.

A special token ("<|endoftext|>") is one id, never split by the pattern nor merged with its neighbours.
``encode`` follows tiktoken exactly: a disallowed special token in the text raises ValueError (by default
all are disallowed), an allowed one becomes its id, and one that is neither is encoded as ordinary text.
The oracle is tiktoken, built with the same tokens and special tokens.
"""
from functools import lru_cache
from pathlib import Path

import pytest

from ..spec_helpers import raises_value_error
from .bpe import GPT2_SPLIT_PATTERN, RegexTokenizer

EOT, PAD = "<|endoftext|>", "<|pad|>"
SPECIALS = {EOT: 400, PAD: 401}

TEXTS = [
    "hello<|endoftext|>world",
    "<|endoftext|><|endoftext|>",
    "a <|pad|> b<|endoftext|>",
    "x<|pad|><|endoftext|>y  ",
    "no special tokens here",
    "<|endof text|> and <|endoftext| are just text",
    "",
]
RULES = [  # (allowed_special, disallowed_special)
    ("all", "all"),
    (frozenset(), "all"),
    ({EOT}, "all"),
    (frozenset(), ()),
    ({PAD}, ()),
    ("all", ()),
    (frozenset(), {PAD}),
    ({EOT}, {PAD}),
]


@lru_cache(maxsize=None)
def trained_with_specials(data_dir: Path) -> RegexTokenizer:
    tokenizer = RegexTokenizer()
    tokenizer.train((data_dir / "tinyshakespeare.txt").read_text(encoding="utf-8")[:20000], vocab_size=400)
    tokenizer.register_special_tokens(dict(SPECIALS))
    return tokenizer


def tiktoken_of(tokenizer):
    import tiktoken

    specials = tokenizer.special_tokens
    ranks = {token: idx for idx, token in tokenizer.vocab.items() if idx not in specials.values()}
    return tiktoken.Encoding(name="l01_trained", pat_str=GPT2_SPLIT_PATTERN, mergeable_ranks=ranks, special_tokens=specials)


def outcome(encode, text, allowed, disallowed):
    try:
        return encode(text, allowed_special=allowed, disallowed_special=disallowed)
    except ValueError:
        return "ValueError"


def test_register_special_tokens():
    tokenizer = RegexTokenizer()
    tokenizer.register_special_tokens({EOT: 256})
    assert tokenizer.special_tokens == {EOT: 256}, f"special_tokens should be {{'<|endoftext|>': 256}}, got {tokenizer.special_tokens}"
    assert tokenizer.vocab.get(256) == EOT.encode("utf-8"), "vocab[256] should hold the special token's UTF-8 bytes"
    assert tokenizer.decode([104, 256]) == "h<|endoftext|>", "decode should turn a special token's id back into its text"
    with pytest.raises(ValueError):
        tokenizer.register_special_tokens({"<|clash|>": 65})  # 65 is the byte "A": an id can mean one thing only


def test_allowed_special_tokens_are_single_ids(data_dir):
    tokenizer = trained_with_specials(data_dir)
    got = tokenizer.encode("<|endoftext|><|endoftext|>", allowed_special="all")
    assert got == [400, 400], f"two allowed <|endoftext|> in a row gave {got}, expected [400, 400]: never split or merge them"
    got = tokenizer.encode("hi<|endoftext|>hi", allowed_special={EOT})
    hi = tokenizer.encode_ordinary("hi")
    assert got == hi + [400] + hi, f"encode('hi<|endoftext|>hi', allowed_special={{EOT}}) gave {got}, expected {hi + [400] + hi}"


def test_disallowed_special_token_raises_naming_it(data_dir):
    tokenizer = trained_with_specials(data_dir)
    with pytest.raises(ValueError, match=r"<\|endoftext\|>"):
        tokenizer.encode("user text with <|endoftext|> inside")  # by default every special token is disallowed
    with pytest.raises(ValueError, match=r"<\|pad\|>"):
        tokenizer.encode("a <|pad|>", allowed_special={EOT})
    got = tokenizer.encode("a <|pad|>", disallowed_special=())
    want = tokenizer.encode_ordinary("a <|pad|>")
    assert got == want, (
        f"with disallowed_special=() a special token that is not allowed is ordinary text: got {got}, expected {want}"
    )


def test_special_tokens_match_tiktoken(data_dir):
    tokenizer = trained_with_specials(data_dir)
    oracle = tiktoken_of(tokenizer)
    for allowed, disallowed in RULES:
        for text in TEXTS:
            got = outcome(tokenizer.encode, text, allowed, disallowed)
            want = outcome(oracle.encode, text, allowed, disallowed)
            assert got == want, (
                f"encode({text!r}, allowed_special={allowed!r}, disallowed_special={disallowed!r}) gave {got}, "
                f"tiktoken gives {want}. Rules: 'all' allowed = every special token; 'all' disallowed = every "
                "special token not allowed; a disallowed one anywhere in the text raises ValueError; an allowed "
                "one is its id; the rest is ordinary text"
            )


def test_overlapping_special_tokens_longest_match_wins():
    tokenizer = RegexTokenizer()
    double = EOT + EOT
    tokenizer.register_special_tokens({EOT: 256, double: 257})
    text = "Hello, how <|endoftext|><|endoftext|> are you?<|endoftext|>"
    ids = tokenizer.encode(text, allowed_special="all")
    assert ids.count(257) == 1 and ids.count(256) == 1, (
        f"with special tokens {EOT!r} and {double!r}, {text!r} should hold the double one once and the single "
        f"one once, got {ids}: where special tokens overlap the longest wins (try the longest first)"
    )
    assert tokenizer.decode(ids) == text, "decode(encode(text)) should give the text back"
    got = tokenizer.encode(EOT * 3, allowed_special="all")
    assert got == [257, 256], f"three <|endoftext|> in a row gave {got}, expected [257, 256] (leftmost, then longest)"


def test_register_special_tokens_adds_and_refuses_clashes():
    tokenizer = RegexTokenizer()
    tokenizer.train("hug hug pug pun bun", vocab_size=260)  # the merges take ids 256, 257, ...
    tokenizer.register_special_tokens({EOT: 300})
    given = {PAD: 301}
    tokenizer.register_special_tokens(given)
    given[PAD], given["<|sneaky|>"] = 999, 302  # the caller's dict changes afterwards: the tokenizer must not
    assert tokenizer.special_tokens == {EOT: 300, PAD: 301}, (
        f"after registering {{EOT: 300}} and then {{PAD: 301}}, special_tokens is {tokenizer.special_tokens}, expected "
        "both: registering adds to the special tokens already there (self.special_tokens.update(...)), and keeps "
        "its own copy rather than the caller's dict"
    )
    got = tokenizer.decode([300, 104, 301])
    assert got == EOT + "h" + PAD, f"decode([300, 104, 301]) gave {got!r}: both special tokens must decode"
    tokenizer.register_special_tokens({EOT: 300})  # the same token with the same id again is fine
    for bad, match, why in (
        ({"<|x|>": 256}, "256", "id 256 is already a merge: check every id in self.vocab, not only the bytes"),
        ({"<|x|>": 300}, "300", "id 300 is already <|endoftext|>"),
        ({"<|x|>": 500, "<|y|>": 500}, "500", "two new special tokens share id 500"),
        ({"": 500}, ".", "a special token cannot be the empty string"),
    ):
        with raises_value_error(match, f"register_special_tokens({bad}) should raise a ValueError naming the offending value ({why})"):
            tokenizer.register_special_tokens(bad)


UNKNOWN = "<|unknown|>"  # looks special, but is never registered
DOUBLE = EOT + EOT  # a special token that holds another one
# allowed_special and disallowed_special: "all", or any iterable of names (a set, a list, a tuple)
ALLOWED = ["all", frozenset(), {EOT}, {PAD}, [EOT, PAD], (DOUBLE,), {EOT, DOUBLE}, {EOT, UNKNOWN}]
DISALLOWED = ["all", (), {PAD}, [EOT], {UNKNOWN}, {EOT, PAD}, {DOUBLE}]


@lru_cache(maxsize=None)
def trained_with_overlapping_specials(data_dir: Path) -> RegexTokenizer:
    tokenizer = RegexTokenizer()
    tokenizer.train((data_dir / "tinyshakespeare.txt").read_text(encoding="utf-8")[:20000], vocab_size=400)
    tokenizer.register_special_tokens({EOT: 400, PAD: 401, DOUBLE: 402})
    return tokenizer


def expected_encoding(oracle, specials: dict[str, int], text: str, allowed, disallowed):
    """tiktoken's rules: tiktoken says whether the text raises; where two allowed special tokens overlap the
    longest wins (tiktoken does not promise which), and the text between is encode_ordinary."""
    try:
        oracle.encode(
            text,
            allowed_special=allowed if allowed == "all" else frozenset(allowed),
            disallowed_special=disallowed if disallowed == "all" else frozenset(disallowed),
        )
    except ValueError:
        return "ValueError"
    allowed = set(specials) if allowed == "all" else set(allowed) & set(specials)
    ids, start, i = [], 0, 0
    while i < len(text):
        found = max((token for token in allowed if text.startswith(token, i)), key=len, default=None)
        if found is None:
            i += 1
            continue
        ids += oracle.encode_ordinary(text[start:i]) + [specials[found]]
        i = start = i + len(found)
    return ids + oracle.encode_ordinary(text[start:])


def test_special_token_rules_on_any_text(data_dir):
    from hypothesis import given, settings
    from hypothesis import strategies as st

    tokenizer = trained_with_overlapping_specials(data_dir)
    oracle = tiktoken_of(tokenizer)
    tokenizer.encode("warm up")  # on a stub, fail here rather than inside hypothesis
    pieces = st.sampled_from([EOT, EOT, PAD, UNKNOWN, "<|endof", "text|>", "<|", "|>", "hi", " there", " ", "\n", "'s", "😀"])

    @settings(max_examples=40)
    @given(st.lists(pieces, max_size=8).map("".join))
    def same_as_tiktoken(text):
        for allowed in ALLOWED:
            for disallowed in DISALLOWED:
                same_rules_as_tiktoken(text, allowed, disallowed)
        got = tokenizer.encode_ordinary(text)
        want = oracle.encode_ordinary(text)
        assert got == want, f"encode_ordinary({text!r}) gave {got}, expected {want}: encode_ordinary ignores special tokens"

    def same_rules_as_tiktoken(text, allowed, disallowed):
        want = expected_encoding(oracle, tokenizer.special_tokens, text, allowed, disallowed)
        try:
            got = tokenizer.encode(text, allowed_special=allowed, disallowed_special=disallowed)
        except ValueError as exc:
            got = "ValueError"
            if want == "ValueError":
                named = [t for t in (set(tokenizer.special_tokens) | {UNKNOWN}) if t in text and t in str(exc)]
                assert named, f"the ValueError for {text!r} should name the disallowed special token found, got: {exc}"
        except NotImplementedError:
            raise
        except Exception as exc:  # a KeyError or TypeError is a wrong answer too: say which rule it broke
            got = f"{type(exc).__name__}: {exc}"
        assert got == want, (
            f"encode({text!r}, allowed_special={allowed!r}, disallowed_special={disallowed!r}) gave {got}, expected "
            f"{want}. tiktoken's rules: 'all' allowed = every REGISTERED special token, a set keeps only the "
            "registered ones; 'all' disallowed = registered minus allowed, otherwise exactly the strings given; "
            "search the WHOLE text for a disallowed one first (even inside an allowed one) and raise; then split "
            "on the allowed ones, the longest first, text at both ends included"
        )

    same_as_tiktoken()
