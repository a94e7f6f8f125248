"""Stage 6: special tokens, with tiktoken's rules for ``allowed_special`` and ``disallowed_special``.

A special token ("<|endoftext|>") is one id, never split by the pattern nor merged with its neighbours.
``encode`` follows tiktoken exactly: a disallowed special token in the text raises ValueError (by default
all are disallowed), an allowed one becomes its id, and one that is neither is encoded as ordinary text.
The oracle is tiktoken, built with the same tokens and special tokens.
"""
from functools import lru_cache
from pathlib import Path

import pytest

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
