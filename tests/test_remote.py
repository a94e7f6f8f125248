"""The grading proxy's channel (grader/sandbox/remote.py) without a sandbox: what crosses stays exact, and the
per-message cost stays small (iterators drawn in batches, mirrors and graphs released while a spec runs)."""
from __future__ import annotations

import os
import signal
import socket
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from grader.sandbox import remote

LEARNER = '''
import sys
import torch


def count(n):
    yield from range(n)


def chatty(n):
    for i in range(n):
        print(f"item {i}")
        yield i


def noisy(n):
    for _ in range(n):
        yield int(torch.randint(0, 1000, ()))


def breaks_at(n, at):
    for i in range(n):
        if i == at:
            raise ValueError(f"no item {at}")
        yield i


def pulls(chunks):
    for chunk in chunks:
        yield len(chunk)


def fresh(i):
    return torch.full((64,), float(i))


def affine(x, weight):
    return x @ weight + 1.0
'''


@pytest.fixture
def learner(tmp_path: Path):
    """The learner's module ``learnermod``, served by a forked child over a socket pair (no confinement)."""
    (tmp_path / "learnermod.py").write_text(textwrap.dedent(LEARNER))
    ours, theirs = socket.socketpair()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        ours.close()
        try:
            remote.serve_child(theirs, str(tmp_path))
        finally:
            os._exit(0)
    theirs.close()
    link = remote.Sandboxed(lambda: (ours, lambda: None), timeout=60)
    previous = remote.current_link()
    remote.install(link)
    try:
        yield link, link.request("import", "learnermod")
    finally:
        remote.install(previous)
        ours.close()
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)


def test_a_long_stream_takes_few_round_trips(learner):
    link, module = learner
    before = link.peer.asked
    assert list(module.count(50_000)) == list(range(50_000))
    assert link.peer.asked - before < 80, "a stream of plain items is drawn in doubling batches"


def test_next_draws_exactly_one(learner):
    _, module = learner
    stream = module.count(3)
    assert [next(stream), next(stream), next(stream)] == [0, 1, 2]
    with pytest.raises(StopIteration):
        next(stream)


def test_prints_arrive_with_their_item(learner, capsys):
    _, module = learner
    for i, item in enumerate(module.chatty(6)):
        assert item == i
        assert capsys.readouterr().out == f"item {i}\n", "no item is drawn before the spec asks for it"


def test_the_random_state_is_the_same_as_in_one_process(learner):
    _, module = learner
    torch.manual_seed(0)
    got = []
    for item in module.noisy(5):
        got.append((item, float(torch.rand(()))))
    torch.manual_seed(0)
    want = []
    for _ in range(5):
        item = int(torch.randint(0, 1000, ()))
        want.append((item, float(torch.rand(()))))
    assert got == want


def test_an_error_comes_after_the_items_before_it(learner):
    _, module = learner
    got = []
    with pytest.raises(ValueError, match="no item 40"):
        for item in module.breaks_at(100, 40):
            got.append(item)
    assert got == list(range(40))


def test_the_learners_code_reads_a_specs_iterator_one_item_at_a_time(learner):
    _, module = learner
    pulled = []

    def chunks():
        for text in ("a", "bb", "ccc"):
            pulled.append(text)
            yield text

    stream = module.pulls(chunks())
    assert next(stream) == 1 and pulled == ["a"], "the learner's code read only what it used"


def test_mirrors_are_released_while_a_spec_runs(learner):
    link, module = learner
    for i in range(2_000):
        assert float(module.fresh(i)[0]) == i
    assert len(link.peer.tensors) < 2 * remote._TIDY_FLOOR, "tensors the spec dropped are forgotten on both sides"


def test_training_through_the_proxy_matches_one_process_and_frees_its_graphs(learner):
    link, module = learner
    torch.manual_seed(0)
    x, weight = torch.randn(8, 4), torch.randn(4, 3, requires_grad=True)
    ours = weight.detach().clone().requires_grad_(True)
    for _ in range(200):
        for w, forward in ((weight, module.affine), (ours, lambda a, b: a @ b + 1.0)):
            loss = forward(x, w).square().mean()
            loss.backward()
            with torch.no_grad():
                w -= 0.01 * w.grad
                w.grad = None
    assert torch.equal(weight, ours)
    assert len(link.peer.graphs) + len(link.peer.tensors) < 2 * remote._TIDY_FLOOR
    assert sys.getrefcount(weight) < 10
