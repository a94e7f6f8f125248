"""Stage 1: text to UTF-8 bytes and back.

Byte-level BPE starts from the 256 possible bytes, so any text at all can be encoded: no "unknown" token.
The oracle is Python's own codec (``str.encode("utf-8")``, ``bytes.decode("utf-8", errors="replace")``).
"""
from .bpe import bytes_to_text, text_to_bytes

SAMPLES = [
    "",
    "hello",
    "héllo wörld",
    "😀🎉",
    "日本語 русский عربى",
    "   \n\t  \r\n",
    "\x00\x7f",
]


def test_text_to_bytes_is_utf8():
    for text in SAMPLES:
        got = text_to_bytes(text)
        want = list(text.encode("utf-8"))
        assert isinstance(got, list), f"text_to_bytes({text!r}) gave a {type(got).__name__}: return a list of ints, e.g. [104, 105]"
        assert got == want, (
            f"text_to_bytes({text!r}) gave {got}, expected its UTF-8 bytes {want}: "
            "use text.encode('utf-8'), not ord() of each character (ord('😀') is 128512, not a byte)"
        )
    assert text_to_bytes("é") == [195, 169], "'é' is two bytes in UTF-8: [195, 169]"
    assert len(text_to_bytes("😀")) == 4, "an emoji is four bytes in UTF-8"


def test_bytes_round_trip():
    for text in SAMPLES:
        got = bytes_to_text(text_to_bytes(text))
        assert got == text, f"bytes_to_text(text_to_bytes({text!r})) gave {got!r}: decode the bytes as UTF-8"


def test_bytes_to_text_never_crashes_on_invalid_utf8():
    cases = {
        (104, 195): "h\ufffd",  # "h" and the first byte of "é"
        (0xFF,): "\ufffd",  # never valid in UTF-8
        (0x80, 104): "\ufffd" + "h",  # a continuation byte with nothing before it
        (0xF0, 0x9F, 0x98): "\ufffd",  # the first 3 of the 4 bytes of "😀"
        (104, 105): "hi",
    }
    for ids, want in cases.items():
        got = bytes_to_text(list(ids))
        assert got == want, (
            f"bytes_to_text({list(ids)}) gave {got!r}, expected {want!r}: invalid UTF-8 must become the "
            "replacement character U+FFFD (bytes(...).decode('utf-8', errors='replace')), never an error"
        )


def test_bytes_to_text_matches_pythons_codec_on_any_bytes():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    bytes_to_text([104, 105])  # on a stub, fail here rather than inside hypothesis
    # Valid characters of every length (1 to 4 bytes), cut anywhere, mixed with stray bytes.
    chars = st.sampled_from(["a", " ", "é", "—", "日", "😀", "👍🏽"]).map(lambda ch: list(ch.encode("utf-8")))
    stray = st.integers(0, 255).map(lambda b: [b])
    sequences = st.lists(st.one_of(chars, stray), max_size=12).map(lambda parts: [b for part in parts for b in part])

    @settings(max_examples=50)
    @given(sequences, st.integers(0, 40), st.integers(0, 40))
    def same_as_codec(ids, start, stop):
        ids = ids[start:start + stop]  # may start or end inside a character
        got = bytes_to_text(ids)
        want = bytes(ids).decode("utf-8", errors="replace")
        assert got == want, (
            f"bytes_to_text({ids}) gave {got!r}, Python's codec gives {want!r}: decode ALL the bytes together "
            "with bytes(ids).decode('utf-8', errors='replace'); do not decode byte by byte, skip bad bytes "
            "(errors='ignore') or count one U+FFFD per byte"
        )

    same_as_codec()
