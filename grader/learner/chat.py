"""``llmfs chat CHECKPOINT``: talk to a checkpoint in the terminal, with the learner's own L10 code.

A thin door to ``exercises/l10/chat.py`` (the same as ``python -m exercises.l10.chat``): the reply streams
token by token, the conversation is kept, ``--prompt`` answers one message and exits, and L09's sampling
options apply (``--temperature``, ``--top-k``, ``--top-p``, ``--repetition-penalty``, ``--max-new-tokens``,
``--seed``). ``--reference`` runs the course's reference code instead (instructors: it needs ``solutions/``).

    llmfs chat runs/l10/ppo
    llmfs chat runs/l10/dpo --prompt "How do I poison Romeo?"
"""
from __future__ import annotations

import importlib
import sys
from pathlib import Path

from ..lessons import COURSE_ROOT


def main(argv: list[str] | None = None, root: Path = COURSE_ROOT) -> int:
    """Run the chat of the course at ``root`` (the one ``llmfs`` found, or ``--root``)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    package = "exercises"
    if "--reference" in argv:
        argv.remove("--reference")
        package = "solutions"
        if not (root / "solutions" / "l10").is_dir():
            print("--reference needs the course's solutions/ folder, which this checkout does not have", file=sys.stderr)
            return 2
    if not (root / package / "l10" / "chat.py").is_file():
        print(f"llmfs chat runs L10's chat.py, and {root / package} has no l10/chat.py", file=sys.stderr)
        return 2
    sys.path.insert(0, str(root))  # `exercises` and `solutions` are packages of the course root
    chat = importlib.import_module(f"{package}.l10.chat")
    try:
        return chat.main(argv)
    except NotImplementedError as exc:  # a stub the chat needs: say which, in one line
        reference = "; llmfs chat --reference uses the course's" if (root / "solutions" / "l10").is_dir() else ""
        print(f"{str(exc).splitlines()[0]}\n(the chat runs your own L10 code{reference})", file=sys.stderr)
        return 1
    except (FileNotFoundError, ValueError) as exc:
        print(f"llmfs chat: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
