"""An overlay: a temporary copy of the course's ``exercises`` package whose lesson modules come from a chosen source.

One mechanism serves the self-check (stubs, the reference, mutants), a learner's status, and grading:
specs, manifests and conftest always come from the pristine course; only the implementation modules
named in each lesson's manifest are taken from the source chosen for that lesson.
"""
from __future__ import annotations

import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path

from ..lessons import COURSE_ROOT, Lesson, load_lessons
from .remote import proxy_module_source

_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", ".hypothesis")


def build_overlay(
    dest: Path,
    *,
    sources: Mapping[str, Path] | None = None,
    modules: Mapping[tuple[str, str], str] | None = None,
    course_root: Path = COURSE_ROOT,
    lessons: Iterable[Lesson] | None = None,
    copy_data: bool = False,
    proxies: Iterable[str] = (),
) -> Path:
    """Lay out ``dest/exercises`` (and ``dest/data``) and return ``dest``.

    sources: lesson package ("l03") -> folder holding that lesson's implementation modules (e.g.
             ``solutions/l03`` or a learner's ``exercises/l03``); lessons not named keep the stubs.
    modules: (package, module) -> the whole text of that module, over whatever ``sources`` chose (a mutant).
    copy_data: copy ``data/`` instead of linking it (for untrusted code that could write to it).
    proxies:  lesson packages whose modules are grading proxies (:mod:`grader.sandbox.remote`): the learner's code
              itself runs in a sandboxed child, from a tree made by :func:`build_learner_tree`.
    """
    sources = dict(sources or {})
    modules = dict(modules or {})
    lessons = list(lessons if lessons is not None else load_lessons(course_root))
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copytree(course_root / "exercises", dest / "exercises", ignore=_IGNORE, dirs_exist_ok=True)
    data = course_root / "data"
    if data.is_dir():
        if copy_data:
            shutil.copytree(data, dest / "data", ignore=_IGNORE, dirs_exist_ok=True)
        else:
            (dest / "data").symlink_to(data, target_is_directory=True)
    known = {lesson.package: lesson for lesson in lessons}
    for package, folder in sources.items():
        if package not in known:
            raise ValueError(f"no lesson package {package!r} in {course_root / 'exercises'}")
        for module in known[package].modules:
            source_file = Path(folder) / module
            if source_file.is_file():
                shutil.copyfile(source_file, dest / "exercises" / package / module)
    for package in proxies:
        for module in known[package].modules:
            (dest / "exercises" / package / module).write_text(proxy_module_source(f"exercises.{package}.{module[:-3]}"), encoding="utf-8")
    for (package, module), text in modules.items():
        target = dest / "exercises" / package / module
        if not target.is_file():
            raise ValueError(f"cannot replace {package}/{module}: no such module in the overlay")
        target.write_text(text, encoding="utf-8")
    return dest


def reference_sources(course_root: Path = COURSE_ROOT, packages: Iterable[str] | None = None) -> dict[str, Path]:
    """Every lesson (or the named ones) taken from ``solutions/``."""
    lessons = load_lessons(course_root)
    wanted = set(packages) if packages is not None else {lesson.package for lesson in lessons}
    return {
        lesson.package: course_root / "solutions" / lesson.package
        for lesson in lessons
        if lesson.package in wanted and (course_root / "solutions" / lesson.package).is_dir()
    }


def build_learner_tree(
    dest: Path, *, sources: Mapping[str, Path], lessons: Iterable[Lesson], data: Path, course_root: Path = COURSE_ROOT
) -> Path:
    """The sandboxed child's tree: the ``exercises`` package with implementation modules only, and ``data``.

    No specs, manifests, notebooks or READMEs, and of the reference only what ``sources`` names (the lessons a
    graded lesson builds on, in isolated grading). ``data`` is linked (the caller makes it a read-only copy).
    """
    package_root = dest / "exercises"
    package_root.mkdir(parents=True)
    (package_root / "__init__.py").write_text("")
    helpers = course_root / "exercises" / "spec_helpers.py"
    if helpers.is_file():  # measuring helpers that specs run beside the learner's code (public course code)
        shutil.copyfile(helpers, package_root / "spec_helpers.py")
    for lesson in lessons:
        (package_root / lesson.package).mkdir()
        (package_root / lesson.package / "__init__.py").write_text("")
        folder = sources.get(lesson.package)
        for module in lesson.modules:
            source_file = Path(folder) / module if folder is not None else None
            if source_file is not None and source_file.is_file():
                shutil.copyfile(source_file, package_root / lesson.package / module)
    (dest / "data").symlink_to(data, target_is_directory=True)
    return dest
