"""What the lesson READMEs promise: each ends with its sources, and the chat they show is the shipped model's.

- Every lesson README ends with a ``## Sources`` section: one list item per paper or reference, each on one
  line, with a link and the part of the lesson that comes from it. arXiv papers are linked by their stable
  ``https://arxiv.org/abs/ID`` page.
- The exchange with the shipped chat model in L10's README (``$ llmfs chat ... --prompt "..."`` followed by
  the reply) is what that model answers: the documented command, run here with ``--reference`` (greedy, so
  the reply is the same every time).
"""
from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from grader.lessons import COURSE_ROOT

READMES = sorted(COURSE_ROOT.glob("exercises/l*/README.md"))
LINK = re.compile(r"\[[^\]]+\]\((https?://[^)\s]+)\)")


def sources_section(text: str) -> str | None:
    """The text after ``## Sources`` when that is the README's last level-2 heading, else None."""
    headings = list(re.finditer(r"^## (.+?)\s*$", text, flags=re.MULTILINE))
    if not headings or headings[-1].group(1) != "Sources":
        return None
    return text[headings[-1].end() :]


def test_there_are_ten_lesson_readmes():
    assert len(READMES) == 10, [str(p) for p in READMES]


@pytest.mark.parametrize("readme", READMES, ids=lambda p: p.parent.name)
def test_every_lesson_readme_ends_with_its_sources(readme: Path):
    section = sources_section(readme.read_text(encoding="utf-8"))
    assert section is not None, f"{readme.relative_to(COURSE_ROOT)} must end with a '## Sources' section"
    lines = [line for line in section.strip().splitlines() if line.strip()]
    assert lines, "the Sources section is empty"
    for line in lines:
        assert line.startswith("- "), f"one list item a line in Sources, got: {line[:80]!r}"
        links = LINK.findall(line)
        assert links, f"a source without a link: {line[:80]!r}"
        assert ": " in line.split(")", 1)[-1], f"say what in the lesson comes from it: {line[:80]!r}"
        for url in links:
            if "arxiv.org" in url:
                assert re.fullmatch(r"https://arxiv\.org/abs/\d{4}\.\d{4,5}", url), f"a stable arXiv abs link: {url}"


def shown_exchanges() -> list[tuple[list[str], str]]:
    """(command words, reply) for each ``$ llmfs chat data/checkpoints/... --prompt ...`` line of L10's README."""
    lines = (COURSE_ROOT / "exercises" / "l10" / "README.md").read_text(encoding="utf-8").splitlines()
    found = []
    for line, reply in zip(lines, lines[1:]):
        if line.startswith("$ llmfs chat data/checkpoints/"):
            found.append((shlex.split(line[2:]), reply))
    return found


def test_the_chat_shown_in_l10s_readme_is_what_the_shipped_model_answers():
    exchanges = shown_exchanges()
    assert exchanges, "L10's README shows an exchange with the shipped chat model"
    runs = [
        subprocess.Popen([sys.executable, "-m", "grader", *words[1:], "--reference"], cwd=COURSE_ROOT,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
        for words, _ in exchanges
    ]
    for (words, shown), run in zip(exchanges, runs):
        out, err = run.communicate(timeout=300)
        assert run.returncode == 0, f"`{shlex.join(words)} --reference` failed: {err.strip()[-300:]}"
        assert out.strip() == shown, f"`{shlex.join(words)}`: the README shows {shown!r}, the shipped model says {out.strip()!r}"
