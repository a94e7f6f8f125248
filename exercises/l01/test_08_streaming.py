"""Stage 8: streaming encode over an iterable of text chunks (lines of a file, say).

``encode_iterable`` yields ids lazily, keeps only a bounded tail of unsettled text in memory, and gives
exactly ``encode("".join(chunks))`` however the text is cut: in the middle of a word ("hel" + "lo"), of a
whitespace run, of a contraction ("'l" + "l"), or of a special token ("<|endof" + "text|>").
"""
from functools import lru_cache
from pathlib import Path

import pytest

from ..spec_helpers import in_the_learners_process, stream_count_and_peak
from .bpe import RegexTokenizer

EOT, DOUBLE = "<|endoftext|>", "<|endoftext|><|endoftext|>"


@lru_cache(maxsize=None)
def gpt2(data_dir: Path) -> RegexTokenizer:
    return RegexTokenizer.load(data_dir / "gpt2")


@lru_cache(maxsize=None)
def trained(data_dir: Path) -> RegexTokenizer:
    tokenizer = RegexTokenizer()
    tokenizer.train((data_dir / "tinyshakespeare.txt").read_text(encoding="utf-8")[:20000], vocab_size=350)
    tokenizer.register_special_tokens({EOT: 350, DOUBLE: 351})
    return tokenizer


def first_difference(got: list[int], want: list[int]) -> str:
    i = next((k for k, (g, w) in enumerate(zip(got, want)) if g != w), min(len(got), len(want)))
    return f"at token {i}: got {got[i:i + 5]}, expected {want[i:i + 5]} ({len(got)} vs {len(want)} tokens)"


def test_encode_iterable_over_lines_equals_encode(data_dir):
    tokenizer = gpt2(data_dir)
    text = (data_dir / "tinyshakespeare.txt").read_text(encoding="utf-8")[:50000]
    lines = text.splitlines(keepends=True)
    got, want = list(tokenizer.encode_iterable(lines)), tokenizer.encode(text)
    assert got == want, f"encode_iterable(lines) differs from encode(text) {first_difference(got, want)}"
    got = list(tokenizer.encode_iterable(iter(["Hello", " wor", "ld"])))
    assert got == [15496, 995], f"encode_iterable(['Hello', ' wor', 'ld']) gave {got}, expected [15496, 995]"


def test_encode_iterable_across_awkward_boundaries(data_dir):
    tokenizer = trained(data_dir)
    cases = [
        ["hel", "lo world"],  # inside a word
        ["a  ", "  ", " b"],  # inside a whitespace run: "  " + " b" only once the b arrives
        ["you'", "ll", " see"],  # inside a contraction
        ["x <|endof", "text|> y"],  # inside a special token
        ["<|endoftext|>", "<|endoftext|>", "<|endoftext|>"],  # the longer special token spans two chunks
        ["trailing   ", "", "\n\n", ""],  # empty chunks, whitespace at the very end
    ]
    for chunks in cases:
        text = "".join(chunks)
        got = list(tokenizer.encode_iterable(chunks, allowed_special="all"))
        want = tokenizer.encode(text, allowed_special="all")
        assert got == want, (
            f"encode_iterable({chunks}) differs from encode({text!r}) {first_difference(got, want)}: keep the "
            "last pre-tokens and the last few characters (a special token may be cut) for the next chunk, "
            "and encode what is left at the end"
        )
    for chars in (list("per character: you're <|endoftext|><|endoftext|>   x"), []):
        got = list(tokenizer.encode_iterable(chars, allowed_special="all"))
        want = tokenizer.encode("".join(chars), allowed_special="all")
        assert got == want, f"one character at a time, {''.join(chars)!r}: {first_difference(got, want)}"
    with pytest.raises(ValueError, match=r"<\|endoftext\|>"):
        list(tokenizer.encode_iterable(["x <|endof", "text|> y"]))  # disallowed by default, even when cut


def test_encode_iterable_any_split(data_dir):
    from hypothesis import given, settings
    from hypothesis import strategies as st

    tokenizer = trained(data_dir)
    list(tokenizer.encode_iterable(["warm up"]))  # on a stub, fail here rather than inside hypothesis
    pieces = st.sampled_from(["<|endoftext|>", "<|endof", "text|>", "'ll", "'", "s", " ", "  ", "\n", "a", "bc", "😀", "9"])

    @settings(max_examples=100, deadline=None, derandomize=True, database=None)
    @given(st.lists(pieces, max_size=20).map("".join), st.lists(st.integers(0, 200), max_size=6))
    def any_split(text, cuts):
        cuts = sorted(min(c, len(text)) for c in cuts)
        chunks = [text[i:j] for i, j in zip([0, *cuts], [*cuts, len(text)])]
        got = list(tokenizer.encode_iterable(chunks, allowed_special="all"))
        want = tokenizer.encode(text, allowed_special="all")
        assert got == want, f"encode_iterable({chunks}) differs from encode({text!r}) {first_difference(got, want)}"

    any_split()


def test_encode_settled_keeps_exactly_the_unsettled_tail(data_dir):
    import regex

    tokenizer = trained(data_dir)
    eot_only = regex.compile("(" + regex.escape(EOT) + ")")
    both = regex.compile("(" + regex.escape(DOUBLE) + "|" + regex.escape(EOT) + ")")
    ordinary = tokenizer.encode_ordinary
    cases = [  # (buffer, allowed_regex, longest) -> (settled start, rest), and why
        (("abc de", None, 0), ("abc", " de"),
         '"abc" is followed by 3 characters: settled; " de" may still grow ("abc def")'),
        (("abc defgh", None, 4), ("abc", " defgh"),
         "with a special token of 4 characters (a disallowed one, say), the last 3 characters may start it: only "
         'buffer[:6] = "abc de" is ordinary text for sure, and in it only "abc" is followed by 3 more characters'),
        (("abcd e" + DOUBLE[:25], both, 26), ("", "abcd e" + DOUBLE[:25]),
         '"<|endoftext|>" starts 25 = longest - 1 characters before the end, so it may still grow into the '
         'double one: not settled, and "abcd" is followed by only 2 characters of ordinary text before it'),
        (("hi" + EOT + " you there friend<|end", eot_only, 13), ("hi" + EOT + " you", " there friend<|end"),
         'the complete "<|endoftext|>" and the text before it are settled; after it, the ordinary text ends '
         'where a special token may start (12 = longest - 1 characters before the end), and in " you there" only '
         '" you" is followed by 3 more characters'),
    ]
    for (buffer, allowed_regex, longest), (settled, rest), why in cases:
        want_ids = []
        for i, part in enumerate(settled.split(EOT)):
            want_ids += ([350] if i else []) + ordinary(part)
        got = tokenizer._encode_settled(buffer, allowed_regex, longest)
        assert tuple(got) == (want_ids, rest), (
            f"_encode_settled({buffer!r}, {'None' if allowed_regex is None else 'allowed_regex'}, longest={longest}) "
            f"returned {tuple(got)}, expected ({want_ids}, {rest!r}) (the ids of {settled!r}): {why}. Settled are the "
            "special tokens that start before limit = len(buffer) - (longest - 1), the text before them, and then, in "
            "the ordinary text up to limit, each pre-token followed by at least PRETOKEN_LOOKAHEAD (3) more characters"
        )


def test_encode_iterable_is_lazy(data_dir):
    tokenizer = gpt2(data_dir)
    consumed = []

    def lines():
        for i in range(1000):
            consumed.append(i)
            yield f"line {i}: the quick brown fox jumps over the lazy dog\n"

    stream = tokenizer.encode_iterable(lines())
    first = next(stream)
    assert first == tokenizer.encode("line")[0], f"the first id should be that of 'line', got {first}"
    assert len(consumed) < 10, (
        f"encode_iterable read {len(consumed)} of 1000 lines before yielding its first id: yield the ids of "
        "each settled part as you go, do not read everything first"
    )


def test_encode_iterable_memory_stays_bounded(data_dir):
    tokenizer = gpt2(data_dir)
    lines = (data_dir / "tinyshakespeare.txt").read_text(encoding="utf-8").splitlines(keepends=True)[:1000]
    repeats = 4
    want_count = len(tokenizer.encode("".join(lines * repeats)))  # also fills the cache of pre-tokens

    count, peak = in_the_learners_process(stream_count_and_peak, tokenizer.encode_iterable, lines, repeats)
    total = sum(map(len, lines)) * repeats
    assert count == want_count, f"encode_iterable gave {count} ids, expected {want_count}"
    assert peak < 64 * 1024, (
        f"encoding {total:,} characters as a stream peaked at {peak:,} bytes of new memory (limit 64 KiB): "
        "keep only the unsettled tail of the text, and yield ids instead of collecting them"
    )


def test_encode_iterable_follows_the_special_token_rules(data_dir):
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from .test_07_gpt2_format import gpt2_tiktoken

    tokenizer, oracle = gpt2(data_dir), gpt2_tiktoken(data_dir)
    list(tokenizer.encode_iterable(["warm up"]))  # on a stub, fail here rather than inside hypothesis
    pieces = st.sampled_from([EOT, "<|endof", "text|>", "<|unknown|>", "'ll", " ", "  ", "\n", "a", " bc", "😀", "9"])
    rules = [  # (allowed_special, disallowed_special)
        ("all", "all"), (frozenset(), "all"), ({EOT}, "all"), ([EOT], ()), (frozenset(), ()), ("all", ()),
        (frozenset(), [EOT]), (frozenset(), {"<|unknown|>"}), ({EOT}, {EOT}),
    ]

    @settings(max_examples=40)
    @given(st.lists(pieces, max_size=12).map("".join), st.lists(st.integers(0, 100), max_size=5))
    def same_as_tiktoken(text, cuts):
        cuts = sorted(min(c, len(text)) for c in cuts)
        chunks = [text[i:j] for i, j in zip([0, *cuts], [*cuts, len(text)])]
        for allowed, disallowed in rules:
            try:
                want = oracle.encode(
                    text,
                    allowed_special=allowed if allowed == "all" else frozenset(allowed),
                    disallowed_special=disallowed if disallowed == "all" else frozenset(disallowed),
                )
            except ValueError:
                want = "ValueError"
            try:
                got = list(tokenizer.encode_iterable(chunks, allowed_special=allowed, disallowed_special=disallowed))
            except ValueError:
                got = "ValueError"
            except NotImplementedError:
                raise
            except Exception as exc:  # a KeyError or TypeError is a wrong answer too: say which rule it broke
                got = f"{type(exc).__name__}: {exc}"
            assert got == want, (
                f"encode_iterable({chunks}, allowed_special={allowed!r}, disallowed_special={disallowed!r}) gave {got}, "
                f"tiktoken's encode of the joined text gives {want}: resolve the arguments as encode does, treat as "
                "special only the ALLOWED tokens, look for disallowed ones in the buffer (a chunk may cut one), and "
                "pass the same rules to the final encode of what is left"
            )

    same_as_tiktoken()
