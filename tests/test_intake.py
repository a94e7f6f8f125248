"""Intake: a submission's files are taken without running or interpreting anything of the submission's.

The attack: a git submission whose own ``.git/config`` makes it a partial clone with a promisor remote reached
through ``core.sshCommand``, and one of whose blobs is deleted, so that any git command that needs the blob
would "fetch" it by running the learner's command (as root, when the grader is root).
"""
from __future__ import annotations

import subprocess
from pathlib import Path

from grader.grading.intake import load_submission
from grader.lessons import load_lessons

GIT = ["git", "-c", "user.email=l@example.org", "-c", "user.name=Learner", "-c", "init.defaultBranch=main"]


def _commit(repo: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    subprocess.run([*GIT, "-C", str(repo), "init", "-q"], check=True)
    subprocess.run([*GIT, "-C", str(repo), "add", "-A"], check=True)
    subprocess.run([*GIT, "-C", str(repo), "commit", "-qm", "my work"], check=True)


def _blob_path(repo: Path, name: str) -> Path:
    blob = subprocess.run(["git", "-C", str(repo), "rev-parse", f"HEAD:{name}"], capture_output=True, text=True, check=True).stdout.strip()
    return repo / ".git" / "objects" / blob[:2] / blob[2:]


def test_a_partial_clone_cannot_run_its_command(mini_course_two: Path, tmp_path: Path):
    marker = tmp_path / "MARKER"
    repo = tmp_path / "mallory"
    _commit(repo, {
        "exercises/l01/toy.py": "def add(a, b):\n    return a + b\n",
        "exercises/l02/double.py": "from ..l01.toy import add\n\ndef double(x):\n    return add(x, x)\n",
    })  # fmt: skip
    _blob_path(repo, "exercises/l02/double.py").unlink()  # the "promised" blob
    command = f"touch {marker}; false"
    for hook in ("post-checkout", "pre-commit", "reference-transaction", "fsmonitor-watchman"):
        (repo / ".git" / "hooks" / hook).write_text(f"#!/bin/sh\n{command}\n")
        (repo / ".git" / "hooks" / hook).chmod(0o755)
    with open(repo / ".git" / "config", "a") as config:
        config.write(
            "[core]\n\trepositoryformatversion = 1\n"
            f"\tsshCommand = sh -c '{command}'\n\tfsmonitor = {repo / '.git' / 'hooks' / 'fsmonitor-watchman'}\n"
            f"\thooksPath = {repo / '.git' / 'hooks'}\n"
            "[extensions]\n\tpartialClone = origin\n"
            "[remote \"origin\"]\n\turl = ssh://attacker.invalid/x.git\n\tpromisor = true\n\tpartialclonefilter = blob:none\n"
            f"[filter \"evil\"]\n\tsmudge = sh -c '{command}'\n\tclean = sh -c '{command}'\n"
            f"[uploadpack]\n\tpackObjectsHook = sh -c '{command}'\n"
        )
    (repo / ".git" / "info").mkdir(exist_ok=True)
    (repo / ".git" / "info" / "attributes").write_text("* filter=evil\n")

    submission = load_submission(repo, load_lessons(mini_course_two))

    assert not marker.exists(), "intake ran a command named by the submission's own git config"
    assert submission.modules[("l01", "toy.py")].startswith(b"def add"), "the blobs that are there are still read"
    assert ("l02", "double.py") not in submission.modules
    assert any("double.py" in error and "missing" in error for error in submission.errors), submission.errors


def test_a_bare_repository_and_a_packed_branch(mini_course: Path, tmp_path: Path):
    work = tmp_path / "work"
    _commit(work, {"exercises/l01/toy.py": "def add(a, b):\n    return a + b\n"})
    bare = tmp_path / "alice.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(work), str(bare)], check=True)
    subprocess.run(["git", "--git-dir", str(bare), "pack-refs", "--all"], check=True)
    subprocess.run(["git", "--git-dir", str(bare), "repack", "-qad"], check=True)

    submission = load_submission(bare, load_lessons(mini_course))

    assert submission.learner == "alice"
    assert submission.modules[("l01", "toy.py")].startswith(b"def add"), submission.errors


def test_a_head_that_leads_outside_the_repository_is_refused(mini_course: Path, tmp_path: Path):
    repo = tmp_path / "eve"
    _commit(repo, {"exercises/l01/toy.py": "def add(a, b):\n    return a + b\n"})
    (repo / ".git" / "HEAD").write_text("ref: refs/../../../../etc/passwd\n")

    submission = load_submission(repo, load_lessons(mini_course))

    assert not submission.modules and "unusable reference" in " ".join(submission.errors)
