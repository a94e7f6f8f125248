"""Stage 7: save and load in GPT-2's own format (vocab.json + merges.txt), and GPT-2's real files.

Tokens are written with GPT-2's printable stand-ins for bytes (``bytes_to_unicode``: " the" is "Ġthe").
GPT-2's base tokens are not in byte order ("!" is id 0), so a loaded tokenizer keeps each byte's id.
The oracles: Hugging Face ``tokenizers`` reading our files, and tiktoken built OFFLINE from GPT-2's files.
"""
import json
from functools import lru_cache
from pathlib import Path


from .bpe import GPT2_SPLIT_PATTERN, RegexTokenizer, bytes_to_unicode

VARIED = [
    "Hello world",
    "",
    "I'm sure you'll see they've gone, we're done, it's OK; I'd say 'quoted'.",
    "    four spaces, then a tab\t\tand trailing spaces   \n\n\n   \n",
    "😀🎉👍🏽 emoji, 🇫🇷 flags and ZWJ 👩‍👩‍👧",
    "naïve café — 日本語 русский العربية हिन्दी 한국어 Ελληνικά",
    "numbers 1234567890, 3.14159 and -42e10",
    "CamelCaseWords and snake_case_names and URLs: https://example.com/a?b=c",
    " leading space, \r\n windows line ends\r\n",
    "a" * 300 + " " + "ab" * 100,
]


@lru_cache(maxsize=None)
def gpt2(data_dir: Path) -> RegexTokenizer:
    return RegexTokenizer.load(data_dir / "gpt2")


@lru_cache(maxsize=None)
def gpt2_tiktoken(data_dir: Path):
    """tiktoken's GPT-2, built offline from the same files (no download, no tiktoken.get_encoding)."""
    import tiktoken

    byte_of = {stand_in: b for b, stand_in in bytes_to_unicode().items()}
    vocab = json.loads((data_dir / "gpt2" / "vocab.json").read_text(encoding="utf-8"))
    ranks = {bytes(byte_of[ch] for ch in token): idx for token, idx in vocab.items() if token != "<|endoftext|>"}
    return tiktoken.Encoding(
        name="gpt2_offline", pat_str=GPT2_SPLIT_PATTERN, mergeable_ranks=ranks, special_tokens={"<|endoftext|>": 50256}
    )


def trained(data_dir: Path) -> RegexTokenizer:
    tokenizer = RegexTokenizer()
    tokenizer.train((data_dir / "tinyshakespeare.txt").read_text(encoding="utf-8")[:20000], vocab_size=350)
    tokenizer.register_special_tokens({"<|endoftext|>": 350})
    return tokenizer


def first_difference(got: list[int], want: list[int]) -> str:
    i = next((k for k, (g, w) in enumerate(zip(got, want)) if g != w), min(len(got), len(want)))
    return f"at token {i}: got {got[i:i + 5]}, expected {want[i:i + 5]} ({len(got)} vs {len(want)} tokens)"


def test_save_writes_gpt2_format(data_dir, tmp_path):
    tokenizer = trained(data_dir)
    tokenizer.save(tmp_path)
    lines = (tmp_path / "merges.txt").read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("#version"), f"merges.txt should start with GPT-2's header '#version: 0.2', got {lines[0]!r}"
    assert len(lines) == 1 + len(tokenizer.merges), f"merges.txt should hold the header + {len(tokenizer.merges)} merges, got {len(lines)} lines"
    stand_in = bytes_to_unicode()
    (left, right), _ = next(iter(tokenizer.merges.items()))
    want = " ".join("".join(stand_in[b] for b in tokenizer.vocab[idx]) for idx in (left, right))
    assert lines[1] == want, f"the first merge should be written {want!r} (bytes_to_unicode stand-ins), got {lines[1]!r}"
    vocab = json.loads((tmp_path / "vocab.json").read_text(encoding="utf-8"))
    assert vocab.get("Ġ") == 32 and vocab.get("a") == 97, "vocab.json maps written tokens to ids: 'Ġ' (space) -> 32, 'a' -> 97"
    assert vocab.get("<|endoftext|>") == 350, "special tokens are written as they are: '<|endoftext|>' -> 350"
    assert len(vocab) == len(tokenizer.vocab), f"vocab.json should hold all {len(tokenizer.vocab)} ids, got {len(vocab)}"


def test_save_load_round_trip(data_dir, tmp_path):
    tokenizer = trained(data_dir)
    tokenizer.save(tmp_path)
    loaded = RegexTokenizer.load(tmp_path)
    assert isinstance(loaded, RegexTokenizer), f"RegexTokenizer.load should return a RegexTokenizer, got {type(loaded).__name__}"
    assert loaded.merges == tokenizer.merges, "load(save(t)).merges differ from t.merges"
    assert loaded.vocab == tokenizer.vocab, "load(save(t)).vocab differs from t.vocab"
    assert loaded.special_tokens == {"<|endoftext|>": 350}, f"special tokens after loading: {loaded.special_tokens}"
    for text in VARIED:
        assert loaded.encode(text + "<|endoftext|>", allowed_special="all") == tokenizer.encode(
            text + "<|endoftext|>", allowed_special="all"
        ), f"the loaded tokenizer encodes {text!r} differently"


def test_saved_files_load_in_hugging_face(data_dir, tmp_path):
    from tokenizers import Tokenizer, models, pre_tokenizers

    tokenizer = trained(data_dir)
    tokenizer.save(tmp_path)
    hf = Tokenizer(models.BPE.from_file(str(tmp_path / "vocab.json"), str(tmp_path / "merges.txt")))
    hf.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    text = (data_dir / "tinyshakespeare.txt").read_text(encoding="utf-8")[20000:30000]
    for sample in [text, *VARIED]:
        got, want = tokenizer.encode_ordinary(sample), hf.encode(sample).ids
        assert got == want, f"Hugging Face reads your files and encodes {sample[:30]!r} differently, {first_difference(got, want)}"


def test_load_gpt2_files(data_dir):
    tokenizer = gpt2(data_dir)
    assert len(tokenizer.merges) == 50000, f"GPT-2 has 50,000 merges, got {len(tokenizer.merges)}"
    assert len(tokenizer.vocab) == 50257, f"GPT-2's vocabulary has 50,257 ids, got {len(tokenizer.vocab)}"
    assert tokenizer.special_tokens == {"<|endoftext|>": 50256}, (
        f"special tokens {tokenizer.special_tokens}, expected {{'<|endoftext|>': 50256}}: an id that is neither "
        "a byte nor a merge is special"
    )
    got = tokenizer.encode_ordinary("!")
    assert got == [0], f"'!' is GPT-2's id 0, got {got}: base tokens are not in byte order; keep a byte -> id map"
    got = tokenizer.encode_ordinary("Hello world")
    assert got == [15496, 995], f"GPT-2 encodes 'Hello world' as [15496, 995], got {got}"
    assert tokenizer.decode([15496, 995, 50256]) == "Hello world<|endoftext|>", "decode with GPT-2's ids"


def test_gpt2_matches_tiktoken(data_dir):
    tokenizer, oracle = gpt2(data_dir), gpt2_tiktoken(data_dir)
    shakespeare = (data_dir / "tinyshakespeare.txt").read_text(encoding="utf-8")
    got, want = tokenizer.encode_ordinary(shakespeare), oracle.encode_ordinary(shakespeare)
    assert got == want, f"GPT-2 on the whole of Tiny Shakespeare differs from tiktoken {first_difference(got, want)}"
    for text in VARIED:
        sample = text + "<|endoftext|>" + text
        got, want = tokenizer.encode(sample, allowed_special="all"), oracle.encode(sample, allowed_special="all")
        assert got == want, f"GPT-2 encodes {sample[:40]!r} differently from tiktoken, {first_difference(got, want)}"
        assert tokenizer.decode(got) == sample, f"decode(encode({sample[:40]!r})) is not the text"
