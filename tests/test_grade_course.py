"""Grading the real course through the sandbox: the reference earns every point and the stubs none.

Every spec of every lesson runs in a trusted process against proxies of the learner's modules, whose code runs
in a sandboxed child (grader/sandbox/remote.py). A spec that only works in one process (it patches the learner's
module, compares object identities, measures this process) would cost an honest learner points here.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from grader.grading.grade import Course, Settings, default_sandbox, grade
from grader.lessons import COURSE_ROOT


def test_the_reference_earns_every_point_and_the_stubs_none(tmp_path: Path):
    reference = tmp_path / "reference"
    shutil.copytree(COURSE_ROOT / "solutions", reference / "exercises", ignore=shutil.ignore_patterns("__pycache__"))
    stub = tmp_path / "stub"
    (stub / "exercises" / "l01").mkdir(parents=True)
    shutil.copyfile(COURSE_ROOT / "exercises" / "l01" / "bpe.py", stub / "exercises" / "l01" / "bpe.py")

    results = {row["learner"]: row for row in grade([reference, stub], course=Course(), settings=Settings(jobs=2, sandbox=default_sandbox()))}

    lost = {
        lesson["lesson"]: [(spec["spec"], spec["message"][:160]) for spec in lesson["specs"] if spec["status"] != "passed"]
        for lesson in results["reference"]["lessons"]
        if lesson["score"] != lesson["max_score"]
    }
    assert not lost, f"the reference lost points in grading: {lost}"
    assert results["stub"]["score"] == 0
