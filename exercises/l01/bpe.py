"""A byte-level BPE tokenizer, GPT-2 style (after Karpathy's minbpe: base.py, basic.py, regex.py).

Text becomes UTF-8 bytes (256 base tokens, so no text is ever "unknown"); training then repeatedly
replaces the most frequent adjacent pair of tokens with a new token. Encoding replays the learned merges
in the order they were learned; decoding joins the tokens' bytes and reads them as UTF-8.

    >>> tokenizer = RegexTokenizer()
    >>> tokenizer.train("aaabdaaabac", vocab_size=259)
    >>> tokenizer.encode("aaabdaaabac")
    [258, 100, 258, 97, 99]
    >>> tokenizer.decode([258, 100])
    'aaabd'
"""
from __future__ import annotations

import heapq
import json
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path

import regex

# GPT-2's pre-tokenization pattern, exactly as tiktoken writes it for "gpt2" (r50k_pat_str in
# tiktoken_ext/openai_public.py). The original GPT-2 release wrote `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+|
# ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`; the possessive `++` form splits every text the same way, faster.
# In words: contractions | an optional space + letters | + digits | + other symbols | whitespace runs,
# where a run of spaces before a word leaves its last space to that word (" world").
GPT2_SPLIT_PATTERN = r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}++| ?\p{N}++| ?[^\s\p{L}\p{N}]++|\s++$|\s+(?!\S)|\s"""

# GPT-2's pattern decides a pre-token by looking at most 3 characters past its start (the contractions
# 've/'re/'ll) and 1 past its end (`(?!\S)`, `$`): once 3 more characters follow it, it can no longer change.
PRETOKEN_LOOKAHEAD = 3

# Encodings of pre-tokens are cached; the cache is emptied when it reaches this size so memory stays bounded.
MAX_CACHE_SIZE = 1 << 16


# ----------------------------------------------------------------------------------------------------
# Stage 1: text <-> bytes


def text_to_bytes(text: str) -> list[int]:
    """The UTF-8 bytes of ``text``, as ints in 0..255 (1 byte for ASCII, up to 4 for an emoji).

    >>> text_to_bytes("hé!")
    [104, 195, 169, 33]
    """
    raise NotImplementedError('L01 text_to_bytes() is not implemented yet: write it in exercises/l01/bpe.py (stuck? run: llmfs hint L01)')


def bytes_to_text(ids: Iterable[int]) -> str:
    """Read bytes (ints in 0..255) as UTF-8; a sequence that is not valid UTF-8 becomes U+FFFD, never an error.

    Token ids can cut a character in half (GPT-2 has tokens that hold the first byte of an emoji), so a
    decoder must not crash on them. Decode all the bytes at once: Python's codec decides how many U+FFFD.

    >>> bytes_to_text([104, 195, 169, 33])
    'hé!'
    >>> bytes_to_text([104, 195])  # "h" and the first half of "é"
    'h\\ufffd'
    """
    raise NotImplementedError('L01 bytes_to_text() is not implemented yet: write it in exercises/l01/bpe.py (stuck? run: llmfs hint L01)')


# ----------------------------------------------------------------------------------------------------
# Stage 2: counting pairs, merging a pair


def get_stats(ids: list[int], counts: dict[tuple[int, int], int] | None = None) -> dict[tuple[int, int], int]:
    """Count adjacent pairs, overlapping ones included; add into ``counts`` when given (even empty), and return it.

    >>> get_stats([1, 2, 3, 1, 2])
    {(1, 2): 2, (2, 3): 1, (3, 1): 1}
    >>> get_stats([97, 97, 97])  # "aaa" holds (a, a) twice
    {(97, 97): 2}
    """
    raise NotImplementedError('L01 get_stats() is not implemented yet: write it in exercises/l01/bpe.py (stuck? run: llmfs hint L01)')


def merge(ids: list[int], pair: tuple[int, int], new_id: int) -> list[int]:
    """Replace every occurrence of ``pair`` in ``ids`` by ``new_id``, scanning left to right.

    Occurrences do not overlap: in "aaa", (a, a) is merged once, at the left.

    >>> merge([1, 2, 3, 1, 2], (1, 2), 4)
    [4, 3, 4]
    >>> merge([97, 97, 97], (97, 97), 256)
    [256, 97]
    """
    raise NotImplementedError('L01 merge() is not implemented yet: write it in exercises/l01/bpe.py (stuck? run: llmfs hint L01)')


# ----------------------------------------------------------------------------------------------------
# Stage 3: training, with a deterministic tie-break


def merge_priority(pair: tuple[int, int], count: int) -> tuple:
    """Sort key of a candidate merge: the pair with the SMALLEST key is merged next.

    The highest count wins; a tie goes to the smallest pair, comparing (id1, id2) as a tuple. Any fixed
    rule would do, but without one two correct trainers could learn different merges from the same text.

    >>> merge_priority((97, 98), 2) < merge_priority((256, 97), 2)  # a tie: (97, 98) is smaller
    True
    """
    raise NotImplementedError('L01 merge_priority() is not implemented yet: write it in exercises/l01/bpe.py (stuck? run: llmfs hint L01)')


def most_frequent_pair(stats: dict[tuple[int, int], int]) -> tuple[int, int]:
    """The pair to merge next: highest count, ties to the smallest pair (see ``merge_priority``).

    >>> most_frequent_pair({(256, 97): 2, (97, 98): 2, (98, 100): 1})
    (97, 98)
    """
    if not stats:
        raise ValueError("most_frequent_pair() got no pairs to choose from")
    raise NotImplementedError('L01 most_frequent_pair() is not implemented yet: write it in exercises/l01/bpe.py (stuck? run: llmfs hint L01)')


# ----------------------------------------------------------------------------------------------------
# Stage 4: the fast trainer (pair counts updated incrementally)


def train_merges(
    word_counts: dict[tuple[int, ...], int], num_merges: int, verbose: bool = False
) -> dict[tuple[int, int], int]:
    """Learn up to ``num_merges`` merges (ids 256, 257, ...) from words, each weighted by its count.

    Same result as recounting every pair after each merge, with ``merge_priority`` choosing, but each
    merge only touches the words that hold the merged pair:

    - ``stats``: pair -> its count over all words, a word counting as often as it occurs in the text;
    - ``where``: pair -> indices of the words that hold it (a word that lost the pair since may still be
      listed; merging finds nothing there and moves on);
    - ``heap``: ``(merge_priority(pair, count), pair)`` entries. When a count changes a fresh entry is
      pushed; an old entry is recognised and dropped when it reaches the top ("lazy deletion").

    "hug" x10, "pun" x12, "bun" x4: "un" (12 + 4 = 16) is merged first, then "p" + "un" (12).

    >>> train_merges({(104, 117, 103): 10, (112, 117, 110): 12, (98, 117, 110): 4}, 2)
    {(117, 110): 256, (112, 256): 257}
    """
    raise NotImplementedError('L01 train_merges() is not implemented yet: write it in exercises/l01/bpe.py (stuck? run: llmfs hint L01)')


# ----------------------------------------------------------------------------------------------------
# Stage 5: encoding by merge rank


def apply_merges(ids: list[int], merges: dict[tuple[int, int], int]) -> list[int]:
    """Encode one chunk: while some adjacent pair was learned, merge the one learned FIRST (lowest rank).

    New ids are handed out in the order merges are learned (256, 257, ...), so the new id is the rank.
    Replaying in training order matters: later merges were learned on text where the earlier ones had
    already happened.

    >>> apply_merges([97, 97, 97, 98], {(97, 97): 256, (97, 98): 257, (256, 257): 258})  # "aaab"
    [258]
    >>> apply_merges([97, 98, 99], {(98, 99): 256, (97, 98): 257})  # "bc" was learned first
    [97, 256]
    """
    raise NotImplementedError('L01 apply_merges() is not implemented yet: write it in exercises/l01/bpe.py (stuck? run: llmfs hint L01)')


# ----------------------------------------------------------------------------------------------------
# Stage 6: special tokens


def special_token_pattern(tokens: Iterable[str]) -> str:
    """A regex (one capturing group) matching any of ``tokens`` literally; where two overlap, the LONGEST wins.

    The regex engine tries alternatives left to right and takes the first that matches, so list the
    longest first: with "<|endoftext|>" and "<|endoftext|><|endoftext|>", the double one must be found whole.

    >>> regex.findall(special_token_pattern(["<|a|>", "<|a|><|b|>"]), "x<|a|><|b|>")
    ['<|a|><|b|>']
    """
    raise NotImplementedError('L01 special_token_pattern() is not implemented yet: write it in exercises/l01/bpe.py (stuck? run: llmfs hint L01)')


def disallowed_special_error(token: str) -> ValueError:
    """The error for a disallowed special token found in the text (tiktoken's rule, a shorter message)."""
    return ValueError(
        f"the text contains the disallowed special token {token!r}: pass it in allowed_special to encode it "
        "as a special token, or leave it out of disallowed_special (e.g. disallowed_special=()) to encode it as text"
    )


# ----------------------------------------------------------------------------------------------------
# Stage 7: GPT-2's file format


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's printable stand-in for each byte, used to write tokens into vocab.json and merges.txt.

    Printable bytes stand for themselves ("a" -> "a"); the others (control bytes, space, ...) are moved to
    chr(256 + n), so that every token is a visible string without spaces: " the" is written "Ġthe".
    """
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    stand_in = {b: chr(b) for b in printable}
    n = 0
    for b in range(256):
        if b not in stand_in:
            stand_in[b] = chr(256 + n)
            n += 1
    return dict(sorted(stand_in.items()))


# ----------------------------------------------------------------------------------------------------
# The tokenizers


class Tokenizer:
    """What every tokenizer shares: the learned merges, the vocabulary, special tokens, decode, save/load.

    merges:         (id1, id2) -> new id, in the order learned; the new id is the merge's rank
    vocab:          id -> the bytes it stands for (special tokens included, as their UTF-8 bytes)
    special_tokens: e.g. {"<|endoftext|>": 50256}
    byte_to_id:     the id of each byte value; range(256) when we train, a permutation in GPT-2's files
    """

    def __init__(self) -> None:
        self.merges: dict[tuple[int, int], int] = {}
        self.special_tokens: dict[str, int] = {}
        self.byte_to_id: list[int] = list(range(256))
        self._build_vocab()

    def _build_vocab(self) -> None:
        """Recompute ``vocab`` from the byte ids, merges and special tokens, and forget cached encodings.

        Call it after changing any of them (training, loading, registering special tokens).
        """
        vocab = {idx: bytes([b]) for b, idx in enumerate(self.byte_to_id)}
        for (left, right), idx in self.merges.items():
            vocab[idx] = vocab[left] + vocab[right]
        for token, idx in self.special_tokens.items():
            vocab[idx] = token.encode("utf-8")
        self.vocab: dict[int, bytes] = vocab
        self._cache: dict[str, list[int]] = {}  # pre-token -> its ids; stale once the merges change

    def register_special_tokens(self, special_tokens: dict[str, int]) -> None:
        """Add special tokens, e.g. ``{"<|endoftext|>": 50256}``: each is one id, never split or merged.

        Those registered before stay; the tokenizer keeps its own copy (the caller's dict may change later).
        Registering a token again with the same id is fine. Raises ValueError for an empty token or an id
        already used by another token (a byte, a merge, another special token, or two in the same call).
        """
        raise NotImplementedError('L01 Tokenizer.register_special_tokens() is not implemented yet: write it in exercises/l01/bpe.py (stuck? run: llmfs hint L01)')

    def decode(self, ids: Iterable[int]) -> str:
        """Token ids -> text. Bytes that are not valid UTF-8 become U+FFFD; an unknown id is a ValueError.

        The ids may start or end inside a character: join the bytes of all the tokens, then decode once.

        >>> BasicTokenizer().decode([104, 105])
        'hi'
        """
        raise NotImplementedError('L01 Tokenizer.decode() is not implemented yet: write it in exercises/l01/bpe.py (stuck? run: llmfs hint L01)')

    def save(self, directory: str | Path) -> None:
        """Write ``vocab.json`` and ``merges.txt`` in GPT-2's own format into ``directory`` (created if needed).

        vocab.json: {token written with bytes_to_unicode: id}, each id's bytes written (GPT-2's id 0 is "!");
        special tokens are written as they are ("<|im start|>" keeps its space).
        merges.txt: "#version: 0.2", then one merge a line in rank order, "left right" (e.g. "Ġ t").
        Raises ValueError if two ids stand for the same bytes (the format cannot tell them apart).
        """
        raise NotImplementedError('L01 Tokenizer.save() is not implemented yet: write it in exercises/l01/bpe.py (stuck? run: llmfs hint L01)')

    @classmethod
    def load(cls, directory: str | Path) -> Tokenizer:
        """Read ``vocab.json`` and ``merges.txt`` (GPT-2's format, the ``#version`` line optional).

        Base tokens need not be in byte order (GPT-2 gives "!" id 0): keep each byte's id in ``byte_to_id``.
        A merge's id is vocab.json's id of the merged token (not 256 + its line). A vocab entry that is neither
        a byte nor a merge is a special token, wherever its id is ("<|endoftext|>" in GPT-2, last; other tools
        put theirs first). Raises ValueError for a merges.txt line whose tokens (or their concatenation) are not in
        vocab.json, naming the missing token, and for merges whose ids do not grow line by line (the id is the rank).

        >>> gpt2 = RegexTokenizer.load("data/gpt2")
        >>> gpt2.encode("Hello world")
        [15496, 995]
        """
        raise NotImplementedError('L01 Tokenizer.load() is not implemented yet: write it in exercises/l01/bpe.py (stuck? run: llmfs hint L01)')


class BasicTokenizer(Tokenizer):
    """BPE straight on the bytes of the whole text: no pre-tokenization (minbpe's basic.py)."""

    def train(self, text: str, vocab_size: int, verbose: bool = False) -> None:
        """Learn ``vocab_size - 256`` merges from ``text`` (fewer if the text runs out of pairs; none if empty).

        Each step counts all pairs (get_stats), merges the most frequent one (most_frequent_pair) into the
        next id, and remembers it in ``merges``; finally ``vocab`` is rebuilt. Training again starts afresh:
        the merges learned before are forgotten. ``verbose`` prints each merge; it changes nothing else.

        >>> tokenizer = BasicTokenizer()
        >>> tokenizer.train("aaabdaaabac", vocab_size=259)  # aa -> 256, then ab -> 257, then (256, 257) -> 258
        >>> tokenizer.merges
        {(97, 97): 256, (97, 98): 257, (256, 257): 258}
        """
        if vocab_size < 256:
            raise ValueError(f"vocab_size must be at least 256 (one token per byte), got {vocab_size}")
        raise NotImplementedError('L01 BasicTokenizer.train() is not implemented yet: write it in exercises/l01/bpe.py (stuck? run: llmfs hint L01)')

    def encode(self, text: str) -> list[int]:
        """Text -> ids: its bytes, then the merges replayed in rank order (``apply_merges``).

        >>> BasicTokenizer().encode("hi")  # no merges learned: one id per byte
        [104, 105]
        """
        raise NotImplementedError('L01 BasicTokenizer.encode() is not implemented yet: write it in exercises/l01/bpe.py (stuck? run: llmfs hint L01)')


class RegexTokenizer(Tokenizer):
    """BPE on pre-tokens: the text is first split by a regex (GPT-2's by default) and merges never cross
    two pre-tokens, so " dog" and "." stay apart in " dog." (minbpe's regex.py, tiktoken's behaviour).

    ``pattern`` is the pre-tokenizer: training and encoding both split with it (``self.compiled_pattern``).
    """

    def __init__(self, pattern: str = GPT2_SPLIT_PATTERN) -> None:
        super().__init__()
        self.pattern = pattern
        self.compiled_pattern = regex.compile(pattern)

    def train(self, text: str, vocab_size: int, verbose: bool = False) -> None:
        """Learn ``vocab_size - 256`` merges from the pre-tokens of ``text`` (split with ``self.pattern``).

        Count each distinct pre-token once, weighted by how often it occurs (" the" 27,000 times is one
        entry with count 27,000), and hand those counts to ``train_merges``. As in BasicTokenizer.train,
        training again replaces the merges, and ``verbose`` only prints.

        >>> tokenizer = RegexTokenizer()
        >>> tokenizer.train("hug hug pug", vocab_size=257)  # pre-tokens "hug", " hug", " pug": "ug" 3 times
        >>> tokenizer.merges
        {(117, 103): 256}
        """
        if vocab_size < 256:
            raise ValueError(f"vocab_size must be at least 256 (one token per byte), got {vocab_size}")
        raise NotImplementedError('L01 RegexTokenizer.train() is not implemented yet: write it in exercises/l01/bpe.py (stuck? run: llmfs hint L01)')

    def _encode_chunk(self, chunk: str) -> list[int]:
        """The ids of one pre-token: its bytes' ids, merged by rank (``apply_merges``), remembered in a cache.

        Text repeats the same words over and over, so after the first " the" the rest cost a dict lookup.
        Use ``self._cache``: ``_build_vocab`` empties it whenever the merges change (training again, loading),
        so no encoding from old merges survives. Encoding the same text twice gives the same ids.
        """
        raise NotImplementedError('L01 RegexTokenizer._encode_chunk() is not implemented yet: write it in exercises/l01/bpe.py (stuck? run: llmfs hint L01)')

    def encode_ordinary(self, text: str) -> list[int]:
        """Text -> ids, ignoring special tokens (tiktoken's ``encode_ordinary``): split, encode each pre-token.

        >>> RegexTokenizer().encode_ordinary("<|endoftext|>")[:3]  # just text
        [60, 124, 101]
        """
        raise NotImplementedError('L01 RegexTokenizer.encode_ordinary() is not implemented yet: write it in exercises/l01/bpe.py (stuck? run: llmfs hint L01)')

    def _special_sets(
        self, allowed_special: Iterable[str] | str, disallowed_special: Iterable[str] | str
    ) -> tuple[set[str], set[str]]:
        """Resolve tiktoken's arguments to (special tokens to encode as such, strings that raise if present).

        ``"all"`` for allowed means every registered special token; otherwise any iterable of names (a set, a
        list, a tuple), of which only the registered ones count. ``"all"`` for disallowed means every registered
        one that is not allowed; otherwise exactly the strings given, registered or not, even allowed ones
        (tiktoken's rule). A special token in neither set is encoded as ordinary text.
        """
        raise NotImplementedError('L01 RegexTokenizer._special_sets() is not implemented yet: write it in exercises/l01/bpe.py (stuck? run: llmfs hint L01)')

    def encode(
        self,
        text: str,
        *,
        allowed_special: Iterable[str] | str = frozenset(),
        disallowed_special: Iterable[str] | str = "all",
    ) -> list[int]:
        """Text -> ids with tiktoken's rules for special tokens.

        - a disallowed special token present anywhere in the text raises ValueError naming it, even inside an
          allowed one (by default every registered special token is disallowed: text from users must not
          smuggle in "<|endoftext|>");
        - an allowed one becomes its single id, never split or merged; where two overlap, the longest wins;
        - one neither allowed nor disallowed is encoded as ordinary text.

        >>> gpt2 = RegexTokenizer.load("data/gpt2")
        >>> gpt2.encode("hi<|endoftext|>", allowed_special="all")
        [5303, 50256]
        """
        raise NotImplementedError('L01 RegexTokenizer.encode() is not implemented yet: write it in exercises/l01/bpe.py (stuck? run: llmfs hint L01)')

    def encode_iterable(
        self,
        lines: Iterable[str],
        *,
        allowed_special: Iterable[str] | str = frozenset(),
        disallowed_special: Iterable[str] | str = "all",
    ) -> Iterator[int]:
        """Encode a stream of text lazily: the same ids as ``encode("".join(lines))``, in bounded memory.

        Ids are yielded as soon as they are settled. A chunk boundary may fall inside a pre-token ("hel" +
        "lo") or a special token ("<|endof" + "text|>"), so the unsettled end of what was read (the last
        pre-tokens and the last few characters) is kept and put in front of the next chunk.

        >>> list(RegexTokenizer().encode_iterable(["h", "i"]))
        [104, 105]
        """
        raise NotImplementedError('L01 RegexTokenizer.encode_iterable() is not implemented yet: write it in exercises/l01/bpe.py (stuck? run: llmfs hint L01)')

    def _encode_settled(
        self, buffer: str, allowed_regex: regex.Pattern | None, longest: int
    ) -> tuple[list[int], str]:
        """Encode the start of ``buffer`` that no text appended later can change; return (its ids, the rest).

        ``allowed_regex`` finds the allowed special tokens (None if there are none); ``longest`` is the length of
        the longest special token, allowed or disallowed (0 if there are none). Settled: a special token that
        starts at least ``longest - 1`` characters before the end, the text before it, and the pre-tokens
        followed by at least PRETOKEN_LOOKAHEAD more characters of ordinary text. The rest starts where the
        first unsettled pre-token or special token starts.

        >>> RegexTokenizer()._encode_settled("abc de", None, 0)  # "abc" is followed by 3 characters: settled
        ([97, 98, 99], ' de')
        """
        raise NotImplementedError('L01 RegexTokenizer._encode_settled() is not implemented yet: write it in exercises/l01/bpe.py (stuck? run: llmfs hint L01)')
