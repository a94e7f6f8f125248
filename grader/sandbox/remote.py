"""The learner's code in a sandboxed child; the specs and the verdict in a trusted process it never ran in.

Grading runs the pristine spec files in a **trusted** pytest process in which each graded learner module is
a *proxy* (see :func:`proxy_module_source`). Every name the spec takes from it, every call, attribute and
item, is a request over a socket to a **sandboxed child** that imported the learner's real module (the model
is PrairieLearn's pytest grader: a child per sandboxed query, plain data over a socket, tests and scoring in
the parent). Only plain data crosses, in both directions:

- ``None``, ``bool``, ``int``, ``float``, ``str``, ``bytes``, lists, tuples, dicts, slices, ``torch.dtype``,
  ``torch.Size``, ``torch.device``, NumPy arrays and scalars, and tensors rebuilt from their raw bytes (exact
  types: never a pickle, never a subclass, so no ``__eq__`` or ``__torch_function__`` of the learner's can
  reach the comparison);
- every other object stays where it was made and the other side holds a *handle* (:class:`Remote`): using it
  is another request. Spec objects handed to the learner (a reference GPT, a callback) are handles too.

What the learner's code may expect of an in-process call is kept:

- **tensors keep their identity and in-place changes** both ways: a tensor that crossed is mirrored, and each
  message carries the data and ``.grad`` of the mirrors that changed since the last one (an optimizer step on
  a spec's parameters, a spec's ``weight.normal_()`` on a learner's module); a view of a mirrored tensor
  crosses as the same view of its mirror (a KV cache's returned slices share its storage);
- **containers to be filled and state to be changed**: lists and dicts passed in are written back when the
  callee changed them (``get_stats(ids, counts)``), and those that are a learner object's attributes arrive
  live (:class:`LiveDict`: ``optimizer.param_groups[0]["lr"] = ...`` reaches the optimizer);
- **autograd crosses the boundary**: a result that requires grad is attached to the caller's graph by
  :class:`_Bridge`, whose backward asks the other side for the vector-Jacobian product;
- **the global torch RNG, the default dtype and grad mode** travel with every request and reply, so seeding
  in a spec and drawing in the learner's code behave as in one process;
- exceptions come back as the same builtin type with the learner's message (``NotImplementedError`` from a stub
  reads "not implemented" as in a learner's own pytest run); prints come back for ``capsys``.

What keeps a request cheap (a few tenths of a millisecond): a learner's iterator is drawn in batches that
double while drawing one more item could not be observed (:func:`_drain`); gradients cross by value; handles
and mirrors that only the tables still hold are released between specs and whenever the tables double (each
message checks every mirror for changes), and a graph kept for the other side's backward is freed as soon as
the bridge node that could call it is gone (:class:`_GraphToken`).

The child may use a spec's objects as the learner's code could in one process, except to reach through them
to anything else (:func:`_check_callback`: no dunder attributes, modules, frames or imports). A measurement
of the learner's own process runs there through ``exercises/spec_helpers.py`` (the ``helper`` request).

The child is confined (its own uid, a private view of the filesystem, limits; see :mod:`grader.sandbox.confine`) and sees only an overlay of implementation modules: no specs, no snapshots, no reference of the
lesson being graded. If it crashes or overruns the spec's time, it is killed and the next spec gets a fresh one:
names imported from a learner module are looked up again; objects made in the lost child raise
:class:`RemoteLost`. Whatever the child sends, it can at worst lose its own submission points: every frame is
size-checked and every field validated here, and a malformed one ends the child, not the grading run.
"""
from __future__ import annotations

import collections
import contextlib
import gc
import importlib
import io
import json
import math
import os
import select
import signal
import socket
import stat
import struct
import sys
import time
import types
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

MAX_FRAME_BYTES = 1 << 28  # one message with its tensors: 256 MiB
MAX_BLOBS = 1 << 16
MAX_TEXT = 20_000  # characters of an error message or repr kept
MAX_PRINTED = 1 << 20  # characters of the learner's output per request
MAX_GARBAGE = 1 << 20  # stray bytes skipped before a message
_TIDY_FLOOR = 256  # handles and mirrors that may build up within one spec before the unused ones are released
_MAX_BATCH = 1024  # items of an iterator drawn in one round trip (see _drain)
_MARKER = b"\x00LLMFS-frame\x00"
_HEADER = struct.Struct("<II")
_BLOB = struct.Struct("<Q")

_DTYPES = {
    str(dtype).removeprefix("torch."): dtype
    for dtype in (torch.float64, torch.float32, torch.float16, torch.bfloat16, torch.int64, torch.int32, torch.int16,
                  torch.int8, torch.uint8, torch.bool, torch.complex64, torch.complex128)
}  # fmt: skip
_NUMPY_DTYPES = {name: np.dtype(name) for name in ("float64", "float32", "float16", "int64", "int32", "int16", "int8", "uint8", "uint16", "uint32", "uint64", "bool")}
_EXCEPTIONS = {
    cls.__name__: cls
    for cls in (NotImplementedError, ValueError, TypeError, KeyError, IndexError, RuntimeError, AttributeError,
                AssertionError, ZeroDivisionError, OverflowError, FileNotFoundError, FileExistsError, OSError,
                ImportError, ModuleNotFoundError, RecursionError, MemoryError, LookupError, ArithmeticError,
                EOFError, PermissionError, IsADirectoryError, NotADirectoryError, NameError, StopIteration,
                UnicodeError, FloatingPointError, TimeoutError)
}  # fmt: skip


class ProtocolError(Exception):
    """The other side sent something that is not a valid message: the child is ended."""


class RemoteLost(RuntimeError):
    """The learner's process ended (crash, time limit) and this object went with it."""


class Timeout(Exception):
    """The learner's code did not answer within the spec's time."""


# --------------------------------------------------------------------------------------------- framing


class Channel:
    """Frames over a stream socket: a marker, a JSON document and the raw bytes of its blobs.

    Bytes before a marker are skipped (up to ``MAX_GARBAGE``): a learner's module that writes into every
    open file descriptor garbles nothing but its own stray bytes.
    """

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = bytearray()

    def send(self, document: object, blobs: list[bytes]) -> None:
        text = json.dumps(document, separators=(",", ":"), allow_nan=False).encode()
        parts = [_MARKER, _HEADER.pack(len(text), len(blobs)), text]
        for blob in blobs:
            parts += [_BLOB.pack(len(blob)), blob]
        self.sock.sendall(b"".join(parts))

    def _fill(self, deadline: float | None, wanted: int = 1 << 12) -> None:
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([self.sock], [], [], remaining)[0]:
                raise Timeout
        chunk = self.sock.recv(min(max(wanted, 1 << 12), 1 << 22))
        if not chunk:
            raise EOFError("the other side closed the channel")
        self.buffer += chunk

    def _read(self, size: int, deadline: float | None) -> bytes:
        while len(self.buffer) < size:
            self._fill(deadline, size - len(self.buffer))
        data = bytes(self.buffer[:size])
        del self.buffer[:size]
        return data

    def _find_marker(self, deadline: float | None) -> None:
        skipped = 0
        while True:
            at = self.buffer.find(_MARKER)
            if at == 0:
                del self.buffer[: len(_MARKER)]
                return
            drop = at if at > 0 else max(0, len(self.buffer) - len(_MARKER) + 1)
            skipped += drop
            del self.buffer[:drop]
            if skipped > MAX_GARBAGE:
                raise ProtocolError(f"more than {MAX_GARBAGE} bytes that are not a message")
            if at < 0:
                self._fill(deadline)

    def receive(self, deadline: float | None = None) -> tuple[object, list[bytes]]:
        self._find_marker(deadline)
        length, count = _HEADER.unpack(self._read(_HEADER.size, deadline))
        if length > MAX_FRAME_BYTES or count > MAX_BLOBS:
            raise ProtocolError(f"a frame of {length} bytes and {count} blobs is over the limits")
        try:
            document = json.loads(self._read(length, deadline))
        except (UnicodeDecodeError, ValueError) as exc:
            raise ProtocolError(f"not JSON: {exc}") from None
        blobs, total = [], length
        for _ in range(count):
            (size,) = _BLOB.unpack(self._read(_BLOB.size, deadline))
            total += size
            if total > MAX_FRAME_BYTES:
                raise ProtocolError("a frame's blobs are over the size limit")
            blobs.append(self._read(size, deadline))
        return document, blobs


# --------------------------------------------------------------------------------------------- handles


class Remote:
    """A handle on an object that lives on the other side; using it is a request.

    ``isinstance(handle, nn.Module)`` and the like hold when the object's class (or one of its bases) is a
    class this side knows by the same module and name; equality and hashing are by identity, never asked of
    the other side.
    """

    __slots__ = ("_peer", "_hid", "_generation", "_path", "_shadow", "__weakref__")

    def __init__(self, peer: Peer, hid: int, generation: int, shadow: type, path: tuple[str, ...] | None) -> None:
        object.__setattr__(self, "_peer", peer)
        object.__setattr__(self, "_hid", hid)
        object.__setattr__(self, "_generation", generation)
        object.__setattr__(self, "_shadow", shadow)
        object.__setattr__(self, "_path", path)

    def _ask(self, op: str, *args: object) -> object:
        peer = object.__getattribute__(self, "_peer")
        if object.__getattribute__(self, "_generation") != peer.generation:
            raise RemoteLost("this object lived in the learner's process that ended (a crash or a time limit in an earlier spec)")
        return peer.front.request(op, self, *args)

    @property
    def __class__(self):  # noqa: D105 - isinstance() consults it
        return object.__getattribute__(self, "_shadow")

    def __getattr__(self, name: str) -> object:
        if name.startswith("__") and name.endswith("__"):  # __torch_function__, __array__, ...: never the learner's
            raise AttributeError(name)
        return self._ask("getattr", name)

    def __setattr__(self, name: str, value: object) -> None:
        self._ask("setattr", name, value)

    def __delattr__(self, name: str) -> None:
        self._ask("delattr", name)

    def __call__(self, *args: object, **kwargs: object) -> object:
        return self._ask("call", list(args), kwargs)

    def __getitem__(self, key: object) -> object:
        return self._ask("getitem", key)

    def __setitem__(self, key: object, value: object) -> None:
        self._ask("setitem", key, value)

    def __delitem__(self, key: object) -> None:
        self._ask("delitem", key)

    def __len__(self) -> int:
        return _exact(self._ask("len"), int, "len()")

    def __iter__(self):
        snapshot = self._ask("iter")
        if type(snapshot) is list:
            return iter(snapshot)
        if not isinstance(snapshot, Remote):
            raise TypeError("iter() of the learner's object gave neither items nor an iterator")
        return _drain(snapshot)

    def __next__(self) -> object:
        return self._ask("next")

    def __contains__(self, item: object) -> bool:
        return _exact(self._ask("contains", item), bool, "in")

    def __bool__(self) -> bool:
        return _exact(self._ask("bool"), bool, "bool()")

    def __repr__(self) -> str:
        return _exact(self._ask("repr"), str, "repr()")

    def __str__(self) -> str:
        return _exact(self._ask("str"), str, "str()")

    def __eq__(self, other: object) -> bool:
        """Two of the learner's objects compare as the learner's code says; one of ours never asks it."""
        if self is other:
            return True
        if isinstance(other, Remote) and object.__getattribute__(other, "_peer") is object.__getattribute__(self, "_peer"):
            return _exact(self._ask("eq", other), bool, "==")
        return False

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    def __hash__(self) -> int:
        return object.__hash__(self)

    def __enter__(self) -> object:
        return self._ask("call_method", "__enter__", [], {})

    def __exit__(self, *exc: object) -> object:
        return self._ask("call_method", "__exit__", [None, None, None], {})

    def __deepcopy__(self, memo: dict) -> object:
        return self._ask("deepcopy")

    def __copy__(self) -> object:
        return self._ask("copy")

    def __reduce_ex__(self, protocol: int) -> object:
        """Pickling (``torch.save``) an object of the other side: its own ``__reduce__`` may refuse, as in one process."""
        self._ask("reduce")
        raise TypeError("an object of the other process cannot be pickled here")

    def __instancecheck__(self, instance: object) -> bool:
        return _exact(self._ask("isinstance", instance), bool, "isinstance()")

    def __subclasscheck__(self, subclass: object) -> bool:
        return _exact(self._ask("issubclass", subclass), bool, "issubclass()")

    def __dir__(self) -> list[str]:
        return _exact(self._ask("dir"), list, "dir()")


class LiveList(list):
    """A list that is an attribute of the learner's object (``optimizer.param_groups``): read here, written there too."""

    __slots__ = ("_remote",)

    def __init__(self, remote: Remote, items: list) -> None:
        super().__init__(items)
        object.__setattr__(self, "_remote", remote)

    def _tell(self, op: str, *args: object) -> None:
        self._remote._ask(op, *args)

    def __setitem__(self, key, value) -> None:  # noqa: ANN001
        super().__setitem__(key, value)
        self._tell("setitem", key, value)

    def __delitem__(self, key) -> None:  # noqa: ANN001
        super().__delitem__(key)
        self._tell("delitem", key)

    def append(self, value) -> None:  # noqa: ANN001
        super().append(value)
        self._tell("call_method", "append", [value], {})

    def extend(self, values) -> None:  # noqa: ANN001
        values = list(values)
        super().extend(values)
        self._tell("call_method", "extend", [values], {})

    def insert(self, index, value) -> None:  # noqa: ANN001
        super().insert(index, value)
        self._tell("call_method", "insert", [index, value], {})

    def pop(self, index=-1):  # noqa: ANN001
        value = super().pop(index)
        self._tell("call_method", "pop", [index], {})
        return value

    def clear(self) -> None:
        super().clear()
        self._tell("call_method", "clear", [], {})


class LiveDict(dict):
    """A dict that is an attribute of the learner's object (``optimizer.state``): read here, written there too.

    A missing key is asked of the learner's dict (a ``defaultdict`` makes it).
    """

    __slots__ = ("_remote",)

    def __init__(self, remote: Remote, items: dict) -> None:
        super().__init__(items)
        object.__setattr__(self, "_remote", remote)

    def _tell(self, op: str, *args: object) -> object:
        return self._remote._ask(op, *args)

    def __missing__(self, key):  # noqa: ANN001
        value = self._tell("getitem", key)
        super().__setitem__(key, value)
        return value

    def __setitem__(self, key, value) -> None:  # noqa: ANN001
        super().__setitem__(key, value)
        self._tell("setitem", key, value)

    def __delitem__(self, key) -> None:  # noqa: ANN001
        super().__delitem__(key)
        self._tell("delitem", key)

    def update(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        new = dict(*args, **kwargs)
        super().update(new)
        self._tell("call_method", "update", [new], {})

    def pop(self, key, *default):  # noqa: ANN001, ANN002
        value = super().pop(key, *default)
        self._tell("call_method", "pop", [key, *default], {})
        return value

    def setdefault(self, key, default=None):  # noqa: ANN001
        if key not in self:
            self[key] = default
        return self[key]

    def clear(self) -> None:
        super().clear()
        self._tell("call_method", "clear", [], {})


def _drain(iterator: Remote):
    """The items of an iterator of the other side, drawn in batches that double while nothing else is observed.

    The other side stops a batch early wherever drawing one more item could be seen from here (see
    :meth:`Peer._draw`), so a spec sees the same items, prints, random state and exceptions as it would draw
    them one at a time; a stream of 50,000 token ids costs a few dozen round trips instead of 50,000. The
    learner's code draws from the spec's iterators one item at a time: how far it read is what a spec may check.
    """
    if object.__getattribute__(iterator, "_peer").side == 1:
        while True:
            try:
                yield iterator._ask("next")
            except StopIteration:
                return
    size = 1
    while True:
        items, error = _list(iterator._ask("draw", size), 2)
        if type(items) is not list or not (error is None or error == "stop" or type(error) is dict) or len(items) > size or (not items and error is None):
            raise ProtocolError("a malformed batch of items")
        yield from items
        if error is not None:
            if error == "stop":
                return
            raise _exception(error)
        size = min(2 * size, _MAX_BATCH)


def _immutable(value: object) -> bool:
    if type(value) in (int, float, bool, str, bytes, complex) or value is None:
        return True
    return type(value) is tuple and all(_immutable(item) for item in value)


def _exact(value: object, kind: type, what: str) -> object:
    if type(value) is not kind:
        raise TypeError(f"{what} of the learner's object gave a {type(value).__name__}, not a {kind.__name__}")
    return value


_SHADOWS: dict[tuple[str, ...], type] = {}


def _shadow_class(names: list[str]) -> type:
    """A local stand-in class for isinstance(): subclasses the classes of ``names`` ("module:qualname") known here."""
    key = tuple(names)
    if key in _SHADOWS:
        return _SHADOWS[key]
    bases = []
    for name in names:
        module_name, _, qualname = name.partition(":")
        module = sys.modules.get(module_name)
        found = module
        for part in qualname.split("."):
            found = getattr(found, part, None) if found is not None and not isinstance(found, Remote) else None
        if (
            isinstance(found, type) and found.__module__ != "builtins" and not issubclass(found, (torch.Tensor, np.ndarray, Remote, BaseException))
            and not any(issubclass(b, found) for b in bases)
        ):  # fmt: skip
            bases.append(found)
    shadow = Remote
    for candidates in (bases, bases[:1]):
        try:
            shadow = type(names[0].rpartition(":")[2].rpartition(".")[2] if names else "Remote", tuple(candidates) or (object,), {"__slots__": ()} if not candidates else {})
            break
        except TypeError:  # an impossible MRO or layout: fall back to fewer bases
            continue
    _SHADOWS[key] = shadow
    return shadow


def _class_names(obj: object) -> list[str]:
    return [f"{cls.__module__}:{cls.__qualname__}" for cls in type(obj).__mro__ if cls is not object][:16]


# --------------------------------------------------------------------------------------------- autograd


class _Value:
    """A tensor sent by value, not mirrored: a gradient that crosses once and is never changed in place there."""

    __slots__ = ("tensor",)

    def __init__(self, tensor: torch.Tensor) -> None:
        self.tensor = tensor.detach()

    @staticmethod
    def of(tensor: torch.Tensor | None) -> "_Value | None":
        return None if tensor is None else _Value(tensor)


class _GraphToken:
    """Held by a bridge's graph node: when the node is gone, no backward can reach that call again, and the
    other side is told (with the next message) that it may free the graph it keeps for the call."""

    __slots__ = ("peer", "call_id")

    def __init__(self, peer: "Peer", call_id: int) -> None:
        self.peer, self.call_id = peer, call_id

    def __del__(self) -> None:
        self.peer.freed.append(self.call_id)


class _Bridge(torch.autograd.Function):
    """Attaches tensors computed on the other side to this side's graph; backward asks the other side."""

    @staticmethod
    def forward(ctx, peer, call_id, generation, outputs, anchor, *leaves):  # noqa: ANN001
        ctx.peer, ctx.call_id, ctx.generation, ctx.count = peer, call_id, generation, len(leaves)
        ctx.token = _GraphToken(peer, call_id)
        return tuple(outputs)

    @staticmethod
    def backward(ctx, *grads):  # noqa: ANN001
        if ctx.generation != ctx.peer.generation:
            raise RemoteLost("the learner's process that computed this tensor has ended")
        input_grads = ctx.peer.request("backward", ctx.call_id, [_Value.of(g) for g in grads])
        if type(input_grads) is not list or len(input_grads) != ctx.count:
            raise ProtocolError("backward answered with the wrong number of gradients")
        checked = [g if g is None or type(g) is torch.Tensor else _fail_type("gradient") for g in input_grads]
        return (None, None, None, None, None, *checked)


def _fail_type(what: str):
    raise ProtocolError(f"a {what} that is not a tensor")


_ANCHOR = torch.zeros((), requires_grad=True)

# The channel's own tensor work ignores __torch_function__ modes and subclasses: a mode the learner's code
# entered (to make every comparison True) must not garble the messages that carry its own results.
_plain_torch = torch._C.DisableTorchFunction  # gives a bridge a grad-requiring input when the caller sent none


# --------------------------------------------------------------------------------------------- the peer


class Peer:
    """One side of the channel: encodes and decodes values, mirrors tensors, serves and sends requests.

    ``side`` is 0 for the trusted process and 1 for the child; the ids a side hands out have its parity.
    """

    def __init__(self, channel: Channel, side: int, *, timeout: float | None = None) -> None:
        self.channel, self.side, self.timeout = channel, side, timeout
        self.generation = 0
        self._reset_tables()
        self.deadline: float | None = None
        self.busy = False
        self.asked = 0  # requests made so far: a draw that made one called back
        self.front: Peer | Sandboxed = self  # what requests go through: the trusted side's Sandboxed adds limits
    def _reset_tables(self) -> None:
        self.next_id = self.side
        self.objects: dict[int, object] = {}  # hid -> object of ours the other side holds
        self.object_ids: dict[int, int] = {}  # id(object) -> hid
        self.proxies: dict[int, Remote] = {}  # hid -> handle on the other side's object
        self.tensors: dict[int, torch.Tensor] = {}  # mid -> our copy of a mirrored tensor
        self.tensor_ids: dict[int, int] = {}  # id(tensor) -> mid
        self.synced: dict[int, tuple] = {}  # mid -> the state last sent or received
        self.generators: dict[int, torch.Generator] = {}
        self.generator_states: dict[int, bytes] = {}
        self.graphs: dict[int, tuple[list[torch.Tensor], list[torch.Tensor]]] = {}  # call -> its outputs, leaves
        self.freed: list[int] = []  # calls answered there whose graph here is gone: theirs can go too
        self.rng_sent: bytes | None = None
        self._borrowed: list = []  # while encoding a reply: the caller's lists and dicts, returned by reference
        self._lent: dict[int, object] = {}  # while decoding a reply: ours, by position
        self._printed: list[str] | None = None
        self._live = False  # while encoding an attribute or item: its lists and dicts are the object's state

    def _new_id(self) -> int:
        self.next_id += 2
        return self.next_id

    # ----------------------------------------------------------------- values

    def encode(self, value: object, blobs: list[bytes], bridge: list | None = None) -> object:
        kind = type(value)
        if value is None or kind in (bool, int, str):
            return value
        if kind is float:
            return ["f", value.hex()]
        if kind in (list, dict) and any(value is c for c in self._borrowed):
            return ["C", next(i for i, c in enumerate(self._borrowed) if c is value)]
        if kind in (LiveList, LiveDict):  # one of the other side's containers coming back
            return self.encode(object.__getattribute__(value, "_remote"), blobs)
        if self._live and (kind is list or kind is dict or (isinstance(value, dict) and kind.__module__ == "collections")):
            hid = self._encode_object(value)[1]
            items = [self.encode(item, blobs, bridge) for item in value] if kind is list else [[self.encode(k, blobs, bridge), self.encode(v, blobs, bridge)] for k, v in value.items()]
            return ["Ll" if kind is list else "Dl", [hid, _class_names(value), items]]
        if kind in (list, tuple):
            return ["l" if kind is list else "t", [self.encode(item, blobs, bridge) for item in value]]
        if kind is dict or (isinstance(value, dict) and kind.__module__ == "collections"):
            return ["d", [[self.encode(k, blobs, bridge), self.encode(v, blobs, bridge)] for k, v in value.items()]]
        if isinstance(value, torch.Tensor) and kind in (torch.Tensor, torch.nn.Parameter):
            return self._encode_tensor(value, blobs, bridge)
        if kind is _Value:
            blobs.append(_tensor_bytes(value.tensor.cpu()))
            return ["Tv", [str(value.tensor.dtype).removeprefix("torch."), list(value.tensor.shape), len(blobs) - 1]]
        if kind is bytes:
            blobs.append(value)
            return ["y", len(blobs) - 1]
        if kind is torch.dtype:
            return ["dt", str(value).removeprefix("torch.")]
        if kind is torch.Size:
            return ["S", list(value)]
        if kind is torch.device:
            return ["dv", str(value)]
        if kind is slice:
            return ["sl", [self.encode(value.start, blobs), self.encode(value.stop, blobs), self.encode(value.step, blobs)]]
        if value is Ellipsis:
            return ["E"]
        if kind is range:
            return ["r", [value.start, value.stop, value.step]]
        if kind is torch.Generator:
            return self._encode_generator(value, blobs)
        if kind is np.memmap and isinstance(value.filename, (str, os.PathLike)) and value.flags.c_contiguous and value.dtype.name in _NUMPY_DTYPES:
            return ["mm", [os.fspath(value.filename), value.dtype.name, list(value.shape), _file_offset(value)]]
        if kind in (np.ndarray, np.memmap) and value.dtype.name in _NUMPY_DTYPES:
            blobs.append(np.ascontiguousarray(value).tobytes())
            return ["A", [value.dtype.name, list(value.shape), len(blobs) - 1]]
        if isinstance(value, np.generic) and value.dtype.name in _NUMPY_DTYPES:
            return ["ns", [value.dtype.name, self.encode(value.item(), blobs)]]
        if isinstance(value, Path):
            return ["P", str(value)]
        if kind.__name__ in ("dict_keys", "dict_values", "dict_items", "odict_keys", "odict_values", "odict_items"):
            return ["l", [self.encode(item, blobs, bridge) for item in value]]
        if kind in (set, frozenset):
            return ["set" if kind is set else "fset", [self.encode(item, blobs, bridge) for item in value]]
        if kind is _NamedRemote:
            value = value._target()
        if isinstance(value, Remote):
            peer = object.__getattribute__(value, "_peer")
            if peer is self and object.__getattribute__(value, "_generation") == self.generation:
                return ["H", object.__getattribute__(value, "_hid")]
            raise RemoteLost("an object of the learner's process that has ended was used")
        return self._encode_object(value)

    def _encode_object(self, value: object) -> list:
        hid = self.object_ids.get(id(value))
        if hid is None:
            hid = self._new_id()
            self.objects[hid], self.object_ids[id(value)] = value, hid
        return ["H", hid, _class_names(value)]

    def _encode_generator(self, generator: torch.Generator, blobs: list[bytes]) -> list:
        gid = self.object_ids.get(id(generator))
        if gid is None:
            gid = self._new_id()
            self.object_ids[id(generator)], self.generators[gid] = gid, generator
        state = bytes(generator.get_state().numpy())
        self.generator_states[gid] = state
        blobs.append(state)
        return ["G", [gid, len(blobs) - 1]]

    def _encode_tensor(self, tensor: torch.Tensor, blobs: list[bytes], bridge: list | None) -> list:
        if tensor.device.type == "meta":
            return ["Tm", [str(tensor.dtype).removeprefix("torch."), list(tensor.shape)]]
        if tensor.device.type != "cpu":
            tensor = tensor.cpu()
        mid = self.tensor_ids.get(id(tensor))
        if mid is not None and self.tensors.get(mid) is tensor:
            return ["M", mid]
        base = tensor._base
        if base is not None and base.device.type == "cpu" and not (tensor.requires_grad and tensor.grad_fn is not None and bridge is not None):
            base_code = self._encode_tensor(base, blobs, None)  # a view: the other side makes the same view of the same base
            mid = self._new_id()
            self.tensors[mid], self.tensor_ids[id(tensor)] = tensor, mid
            self.synced[mid] = _state(tensor)
            return ["V", [mid, base_code, tensor.storage_offset() - base.storage_offset(), list(tensor.shape), list(tensor.stride())]]
        mid = self._new_id()
        self.tensors[mid], self.tensor_ids[id(tensor)] = tensor, mid
        blobs.append(_tensor_bytes(tensor.detach()))
        bridged = 0
        if bridge is not None and tensor.requires_grad and tensor.grad_fn is not None:
            bridge.append(tensor)
            bridged = 1
        self.synced[mid] = _state(tensor)
        grad = -1
        if tensor.is_leaf and tensor.grad is not None and tensor.grad.device.type == "cpu":
            blobs.append(_tensor_bytes(tensor.grad))
            grad = len(blobs) - 1
        return ["T", [mid, str(tensor.dtype).removeprefix("torch."), list(tensor.shape), len(blobs) - 1 - (grad >= 0),
                      bool(tensor.requires_grad), type(tensor) is torch.nn.Parameter, bridged, grad]]  # fmt: skip

    def decode(self, item: object, blobs: list[bytes], bridged: list | None = None) -> object:
        if item is None or type(item) in (bool, int, str):
            return item
        if type(item) is not list or not item or type(item[0]) is not str:
            raise ProtocolError(f"not a value: {str(item)[:80]}")
        tag, body = item[0], item[1] if len(item) > 1 else None
        if tag == "f":
            return float.fromhex(_str(body))
        if tag in ("l", "t"):
            values = [self.decode(x, blobs, bridged) for x in _list(body)]
            return values if tag == "l" else tuple(values)
        if tag == "d":
            out = {}
            for pair in _list(body):
                key, value = _list(pair, 2)
                key = self.decode(key, blobs, bridged)
                try:
                    out[key] = self.decode(value, blobs, bridged)
                except TypeError:
                    raise ProtocolError("an unhashable dict key") from None
            return out
        if tag in ("set", "fset"):
            try:
                values = {self.decode(x, blobs, bridged) for x in _list(body)}
            except TypeError:
                raise ProtocolError("an unhashable set member") from None
            return values if tag == "set" else frozenset(values)
        if tag == "T":
            return self._decode_tensor(_list(body, 8), blobs, bridged)
        if tag in ("Ll", "Dl"):
            hid, names, items = _list(body, 3)
            handle = self._decode_handle(["H", hid, names])
            if tag == "Ll":
                return LiveList(handle, [self.decode(x, blobs, bridged) for x in _list(items)])
            pairs = [_list(pair, 2) for pair in _list(items)]
            try:
                return LiveDict(handle, {self.decode(k, blobs, bridged): self.decode(v, blobs, bridged) for k, v in pairs})
            except TypeError:
                raise ProtocolError("an unhashable dict key") from None
        if tag == "C":
            if _int(body) not in self._lent:
                raise ProtocolError("a lent argument that was not lent")
            return self._lent[body]
        if tag == "V":
            mid, base_code, offset, shape, stride = _list(body, 5)
            base = self.decode(base_code, blobs)
            if type(base) not in (torch.Tensor, torch.nn.Parameter) or _int(mid) in self.tensors or _int(mid) % 2 == self.side:
                raise ProtocolError("a view of something that is not a mirrored tensor")
            shape, stride, offset = _shape(shape), _shape(stride), _int(offset) + base.storage_offset()
            needed = sum((n - 1) * st for n, st in zip(shape, stride)) + 1 if all(shape) else 0
            if len(stride) != len(shape) or offset < 0 or offset + needed > base.untyped_storage().nbytes() // base.element_size():
                raise ProtocolError("a view outside its base")
            with torch.set_grad_enabled(base.requires_grad):  # a view of a grad leaf stays on its graph
                view = base.as_strided(shape, stride, offset)
            self.tensors[_int(mid)], self.tensor_ids[id(view)] = view, _int(mid)
            self.synced[_int(mid)] = _state(view)
            return view
        if tag == "Tv":
            dtype, shape, index = _list(body, 3)
            return _tensor(_DTYPES.get(_str(dtype)) or _fail(f"dtype {dtype!r}"), _shape(shape), _blob(blobs, index))
        if tag == "Tm":
            dtype, shape = _list(body, 2)
            return torch.empty(_shape(shape), dtype=_DTYPES.get(_str(dtype)) or _fail(f"dtype {dtype!r}"), device="meta")
        if tag == "M":
            mid = _int(body)
            if mid not in self.tensors:
                raise ProtocolError(f"no mirrored tensor {mid}")
            return self.tensors[mid]
        if tag == "y":
            return _blob(blobs, body)
        if tag == "dt":
            return _DTYPES.get(_str(body)) or _fail(f"dtype {body!r}")
        if tag == "S":
            return torch.Size([_int(x) for x in _list(body)])
        if tag == "dv":
            return torch.device(_str(body)[:32])
        if tag == "sl":
            start, stop, step = (self.decode(x, blobs) for x in _list(body, 3))
            return slice(start, stop, step)
        if tag == "E":
            return Ellipsis
        if tag == "r":
            return range(*(_int(x) for x in _list(body, 3)))
        if tag == "G":
            return self._decode_generator(_list(body, 2), blobs)
        if tag == "A":
            dtype, shape, index = _list(body, 3)
            return _array(_NUMPY_DTYPES.get(_str(dtype)) or _fail(f"array dtype {dtype!r}"), _shape(shape), _blob(blobs, index))
        if tag == "mm":
            filename, dtype, shape, offset = _list(body, 4)
            dtype = _NUMPY_DTYPES.get(_str(dtype)) or _fail(f"array dtype {dtype!r}")
            return np.memmap(_str(filename), dtype=dtype, mode="r", offset=_int(offset), shape=tuple(_shape(shape)))
        if tag == "ns":
            dtype, value = _list(body, 2)
            return (_NUMPY_DTYPES.get(_str(dtype)) or _fail(f"scalar dtype {dtype!r}")).type(self.decode(value, blobs))
        if tag == "P":
            return Path(_str(body))
        if tag == "H":
            return self._decode_handle(item)
        raise ProtocolError(f"unknown tag {tag!r}")

    def _decode_handle(self, item: list) -> object:
        hid = _int(item[1])
        if hid % 2 == self.side:  # one of ours coming back
            if hid not in self.objects:
                raise ProtocolError(f"no object {hid}")
            return self.objects[hid]
        proxy = self.proxies.get(hid)
        if proxy is None:
            names = [_str(n) for n in _list(item[2])] if len(item) > 2 else []
            proxy = Remote(self, hid, self.generation, _shadow_class(names[:16]), None)
            self.proxies[hid] = proxy
        return proxy

    def _decode_generator(self, body: list, blobs: list[bytes]) -> torch.Generator:
        gid, index = _int(body[0]), body[1]
        generator = self.generators.get(gid)
        if generator is None:
            generator = torch.Generator()
            self.generators[gid], self.object_ids[id(generator)] = generator, gid
        state = _blob(blobs, index)
        _set_generator_state(generator, state)
        self.generator_states[gid] = state
        return generator

    def _decode_tensor(self, body: list, blobs: list[bytes], bridged: list | None) -> torch.Tensor:
        mid, dtype, shape, index, requires_grad, parameter, bridge, grad = body
        mid = _int(mid)
        if mid % 2 == self.side or mid in self.tensors:
            raise ProtocolError(f"tensor id {mid} reused")
        tensor = _tensor(_DTYPES.get(_str(dtype)) or _fail(f"dtype {dtype!r}"), _shape(shape), _blob(blobs, index))
        if type(requires_grad) is not bool or type(parameter) is not bool:
            raise ProtocolError("a tensor's flags are not booleans")
        if requires_grad and not tensor.is_floating_point() and not tensor.is_complex():
            raise ProtocolError("an integer tensor that requires grad")
        if parameter:
            tensor = torch.nn.Parameter(tensor, requires_grad=requires_grad)
        elif requires_grad and not (bridge == 1 and bridged is not None):
            tensor.requires_grad_(True)
        if _int(grad) >= 0 and (parameter or requires_grad):
            tensor.grad = _tensor(tensor.dtype, list(tensor.shape), _blob(blobs, grad))  # a grad's dtype is its tensor's
        self.tensors[mid], self.tensor_ids[id(tensor)] = tensor, mid
        self.synced[mid] = _state(tensor)
        if bridge == 1 and bridged is not None:
            bridged.append(mid)
        return tensor

    # ----------------------------------------------------------------- sync

    def _outgoing_sync(self, blobs: list[bytes]) -> list:
        updates = []
        for mid, tensor in list(self.tensors.items()):
            try:
                update = self._update_of(mid, tensor, blobs)
            except RuntimeError:  # torch refuses to read it (see _state): it cannot be sent
                continue
            if update is not None:
                updates.append(update)
        generators = []
        for gid, generator in self.generators.items():
            state = bytes(generator.get_state().numpy())
            if state != self.generator_states.get(gid):
                blobs.append(state)
                generators.append([gid, len(blobs) - 1])
                self.generator_states[gid] = state
        return [updates, generators]

    def _update_of(self, mid: int, tensor: torch.Tensor, blobs: list[bytes]) -> list | None:
        """What changed in one mirrored tensor since it was last synced (None: nothing)."""
        state = _state(tensor)
        old = self.synced.get(mid)
        if state == old:
            return None
        if tensor._base is not None and id(tensor._base) in self.tensor_ids:
            self.synced[mid] = state  # a view: its base carries the data
            return None
        data = grad = -1
        if old is None or state[0] != old[0]:
            blobs.append(_tensor_bytes(tensor.detach()))
            data = len(blobs) - 1
        if old is None or state[1] != old[1]:
            if state[1] is None:
                grad = -2
            else:
                blobs.append(_tensor_bytes(tensor.grad))
                grad = len(blobs) - 1
        grad_dtype = str(tensor.grad.dtype).removeprefix("torch.") if grad >= 0 else ""
        self.synced[mid] = state
        return [mid, data, list(tensor.shape), str(tensor.dtype).removeprefix("torch."), grad, grad_dtype, bool(tensor.requires_grad)]

    def _incoming_sync(self, sync: object, blobs: list[bytes]) -> None:
        updates, generators = _list(sync, 2)
        for update in _list(updates):
            mid, data, shape, dtype, grad, grad_dtype, requires_grad = _list(update, 7)
            tensor = self.tensors.get(_int(mid))
            if tensor is None:
                raise ProtocolError(f"an update of unknown tensor {mid}")
            dtype = _DTYPES.get(_str(dtype)) or _fail(f"dtype {dtype!r}")
            with torch.no_grad():
                if _int(data) >= 0:
                    new = _tensor(dtype, _shape(shape), _blob(blobs, data))
                    if new.shape == tensor.shape and new.dtype == tensor.dtype:
                        tensor.copy_(new)
                    else:
                        tensor.data = new
                if _int(grad) != -1 and tensor.is_leaf:
                    if grad == -2:
                        tensor.grad = None
                    else:
                        gdtype = _DTYPES.get(_str(grad_dtype)) or _fail(f"dtype {grad_dtype!r}")
                        tensor.grad = _tensor(gdtype, list(tensor.shape), _blob(blobs, grad))
            if type(requires_grad) is bool and tensor.is_leaf and requires_grad != tensor.requires_grad and (tensor.is_floating_point() or not requires_grad):
                tensor.requires_grad_(requires_grad)
            self.synced[_int(mid)] = _state(tensor)
        for entry in _list(generators):
            gid, index = _list(entry, 2)
            generator = self.generators.get(_int(gid))
            if generator is None:
                raise ProtocolError(f"an update of unknown generator {gid}")
            state = _blob(blobs, index)
            _set_generator_state(generator, state)
            self.generator_states[_int(gid)] = state

    @contextlib.contextmanager
    def _capture(self):
        """The child's prints during a request go back with the answer (a spec's capsys reads them)."""
        if self.side == 0:
            yield
            return
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            yield
        self._printed = [out.getvalue()[-MAX_PRINTED:], err.getvalue()[-MAX_PRINTED:]]

    def _show_printed(self, printed: object) -> None:
        if printed is None:
            return
        out, err = (_str(x) for x in _list(printed, 2))
        sys.stdout.write(out)
        sys.stderr.write(err)

    def _context(self, blobs: list[bytes]) -> dict:
        rng = bytes(torch.get_rng_state().numpy())
        context = {"grad": torch.is_grad_enabled(), "dtype": str(torch.get_default_dtype()).removeprefix("torch.")}
        if rng != self.rng_sent:
            blobs.append(rng)
            context["rng"] = len(blobs) - 1
            self.rng_sent = rng
        return context

    def _apply_context(self, context: object, blobs: list[bytes]) -> None:
        if type(context) is not dict:
            raise ProtocolError("no context")
        if "rng" in context:
            state = _blob(blobs, context["rng"])
            _set_rng_state(state)
            self.rng_sent = state
        torch.set_grad_enabled(context.get("grad") is True)
        dtype = _DTYPES.get(_str(context.get("dtype", "float32")))
        if dtype is not None and dtype.is_floating_point:
            torch.set_default_dtype(dtype)

    # ----------------------------------------------------------------- requests

    def send(self, kind: str, build: Callable[[list[bytes]], dict]) -> None:
        with _plain_torch():
            self._send(kind, build)

    def _send(self, kind: str, build: Callable[[list[bytes]], dict]) -> None:
        blobs: list[bytes] = []
        message = build(blobs)
        message["k"] = kind
        message["ctx"] = self._context(blobs)
        if self._printed is not None:
            message["printed"], self._printed = self._printed, None
        if self.freed:
            message["freed"], self.freed = self.freed, []
        message["sync"] = self._outgoing_sync(blobs)
        self.channel.send(message, blobs)

    def request(self, op: str, *args: object) -> object:
        """Ask the other side; serve its requests (callbacks) until it answers."""
        self.asked += 1
        containers: dict[int, object] = {}
        self.send("req", lambda blobs: {"op": op, "args": [self.encode(a, blobs) for a in args], "cont": self._lend(args, containers)})
        while True:
            message, blobs = self.receive()
            if message["k"] == "req":
                self.serve_one(message, blobs)
                continue
            self.busy = False
            if message["k"] == "err":
                raise _exception(message)
            self._take_back(message.get("cont"), containers, blobs)
            bridged: list[int] = []
            self._lent = containers
            try:
                with _plain_torch():
                    value = self.decode(message.get("value"), blobs, bridged)
            finally:
                self._lent = {}
            if bridged:
                leaves = [self.tensors.get(_int(mid)) for mid in _list(message.get("leaves"))]
                if any(leaf is None for leaf in leaves):
                    raise ProtocolError("a gradient leaf that is not mirrored")
                value = self._attach(value, bridged, _int(message.get("call")), leaves)
            return value

    def _lend(self, args: tuple, containers: dict[int, object]) -> list[int]:
        """Lists and dicts in a request's arguments, by position: what the other side changes in them comes back."""
        found = [v for v in _walk(list(args)) if type(v) in (list, dict)][1:]  # [0] is the argument list itself
        for index, container in enumerate(found):
            containers[index] = container
        return [len(found)]

    def _take_back(self, changes: object, containers: dict[int, object], blobs: list[bytes]) -> None:
        """Apply the other side's changes to the lists and dicts this side lent it (objects to be filled)."""
        for entry in _list(changes if changes is not None else []):
            index, content = _list(entry, 2)
            container = containers.get(_int(index))
            value = self.decode(content, blobs)
            if type(container) is list and type(value) is list:
                container[:] = value
            elif type(container) is dict and type(value) is dict:
                container.clear()
                container.update(value)
            else:
                raise ProtocolError("a change to an argument that was not lent")

    def _attach(self, value: object, bridged: list[int], call_id: int, leaves: list[torch.Tensor]) -> object:
        """Connect tensors computed there to this side's graph (see :class:`_Bridge`)."""
        outputs = [self.tensors[mid] for mid in bridged]
        attached = _Bridge.apply(self, call_id, self.generation, outputs, _ANCHOR, *leaves)
        swap = {id(old): new for old, new in zip(outputs, attached)}
        for mid, new in zip(bridged, attached):
            self.tensors[mid] = new
            self.tensor_ids[id(new)] = mid
            self.synced[mid] = _state(new)
        return _replace(value, swap)

    def receive(self) -> tuple[dict, list[bytes]]:
        with _plain_torch():
            return self._receive()

    def _receive(self) -> tuple[dict, list[bytes]]:
        message, blobs = self.channel.receive(self.deadline)
        if type(message) is not dict or message.get("k") not in ("req", "rep", "err"):
            raise ProtocolError("not a message")
        self._incoming_sync(message.get("sync"), blobs)
        for call in _list(message.get("freed", [])):
            self.graphs.pop(_int(call), None)
        self._apply_context(message.get("ctx"), blobs)
        if self.side == 0:
            self._show_printed(message.get("printed"))
        return message, blobs

    def serve_one(self, message: dict, blobs: list[bytes]) -> None:
        """Answer one request of the other side."""
        try:
            op = _str(message.get("op"))
            with _plain_torch():
                args = [self.decode(a, blobs) for a in _list(message.get("args"))]
            borrowed = [v for v in _walk(args, self.object_ids) if type(v) in (list, dict)][1:]  # sent by value, not by handle
            before = [(list(c.items()) if type(c) is dict else list(c)) for c in borrowed]
            with self._capture():
                value, call_id = self._perform(op, args)
        except ProtocolError:
            raise
        except BaseException as exc:  # noqa: BLE001 - the learner's exception goes back to the caller
            if isinstance(exc, (KeyboardInterrupt, Timeout)) and self.side == 0:
                raise
            self.send("err", lambda blobs: {"type": type(exc).__name__, "text": _text(exc)})
            return
        bridge: list[torch.Tensor] = []

        def build(blobs: list[bytes]) -> dict:
            changed = []
            for index, (container, old) in enumerate(zip(borrowed, before)):
                now = list(container.items()) if type(container) is dict else list(container)
                if len(now) != len(old) or any(a is not b for a, b in zip(_flat(now), _flat(old))):
                    changed.append([index, self.encode(container, blobs)])
            self._borrowed, self._live = borrowed, op in ("getattr", "getitem") and self.side == 1
            try:
                encoded = self.encode(value, blobs, bridge)
            finally:
                self._borrowed, self._live = [], False
            reply = {"value": encoded, "call": call_id, "cont": changed}
            if bridge:
                in_graph = _graph_leaves(bridge)
                leaves = [(mid, t) for mid, t in self.tensors.items() if id(t) in in_graph]
                self.graphs[call_id] = (list(bridge), [t for _, t in leaves])
                reply["leaves"] = [mid for mid, _ in leaves]
            return reply

        try:
            self.send("rep", build)
        except (ProtocolError, OSError):
            raise
        except Exception as exc:  # noqa: BLE001 - a result that cannot be sent is the learner's error
            self.send("err", lambda blobs: {"type": "TypeError", "text": f"the result cannot be passed back ({type(exc).__name__}: {_text(exc)})"})

    def _perform(self, op: str, args: list) -> tuple[object, int]:
        call_id = self._new_id()
        if self.side == 0:
            _check_callback(op, args)
        if op == "import":
            return importlib.import_module(_str(args[0])), call_id
        if op == "helper" and self.side == 1:  # a measuring helper of the course's, run beside the learner's code
            helpers = importlib.import_module("exercises.spec_helpers")
            name = _str(args[0])
            if name.startswith("_") or not callable(getattr(helpers, name, None)):
                raise ProtocolError(f"no spec helper {name!r}")
            return getattr(helpers, name)(*_list(args[1])), call_id
        if op == "backward":
            return self._backward(_int(args[0]), args[1]), call_id
        if op == "release":
            self._release(args[0])
            return None, call_id
        target = args[0]
        rest = args[1:]
        if op == "getattr":
            value = getattr(target, _str(rest[0]))
            if self.side == 0 and isinstance(value, (types.ModuleType, types.FrameType, types.CodeType, types.TracebackType)):
                raise PermissionError("the learner's code may not reach modules, frames or code through the spec's objects")
            return value, call_id
        if op == "setattr":
            setattr(target, _str(rest[0]), rest[1])
            return None, call_id
        if op == "delattr":
            delattr(target, _str(rest[0]))
            return None, call_id
        if op == "call":
            return target(*_list(rest[0]), **_kwargs(rest[1])), call_id
        if op == "call_method":
            return getattr(target, _str(rest[0]))(*_list(rest[1]), **_kwargs(rest[2])), call_id
        if op == "getitem":
            return target[rest[0]], call_id
        if op == "setitem":
            target[rest[0]] = rest[1]
            return None, call_id
        if op == "delitem":
            del target[rest[0]]
            return None, call_id
        simple = {
            "len": len, "iter": _snapshot_or_iterator, "next": next, "bool": bool, "repr": lambda o: repr(o)[:MAX_TEXT], "str": lambda o: str(o)[:MAX_TEXT],
            "dir": dir, "deepcopy": __import__("copy").deepcopy, "copy": __import__("copy").copy,
        }  # fmt: skip
        if op in simple:
            return simple[op](target), call_id
        if op == "draw" and self.side == 1:
            return self._draw(target, _int(rest[0])), call_id
        if op == "contains":
            return rest[0] in target, call_id
        if op == "reduce":  # only whether it refuses: its exception goes back
            target.__reduce_ex__(4)
            return None, call_id
        if op == "eq":
            return bool(target == rest[0]), call_id
        if op == "isinstance":
            return isinstance(rest[0], target), call_id
        if op == "issubclass":
            return isinstance(rest[0], type) and issubclass(rest[0], target), call_id
        raise ProtocolError(f"unknown operation {op!r}")

    def _draw(self, iterator: object, size: int) -> list:
        """Up to ``size`` items of ``iterator``, and then ``None``, ``"stop"`` or the exception that ended it.

        The batch stops after an item that is not a plain immutable value (it could change before it is read) or
        whose drawing called back into the spec's side, printed, changed the random state, a mirrored tensor or
        the grad mode or default dtype: one more draw would be seen before the spec asked for it.
        """
        items: list = []
        quiet = self._quiet_now()
        while len(items) < max(1, min(size, _MAX_BATCH)):
            asked = self.asked
            try:
                item = next(iterator)
            except StopIteration:
                return [items, "stop"]
            except Exception as exc:  # noqa: BLE001 - raised on the caller's side after the items before it
                if not items:
                    raise
                return [items, {"type": type(exc).__name__, "text": _text(exc)}]
            items.append(item)
            if not _immutable(item) or self.asked != asked or self._quiet_now() != quiet or self._mirrors_changed():
                break
        return [items, None]

    def _quiet_now(self) -> tuple:
        """What a draw may change that the caller would see: output so far, random state, grad mode, dtype."""
        written = tuple(stream.tell() if isinstance(stream, io.StringIO) else 0 for stream in (sys.stdout, sys.stderr))
        return written, bytes(torch.get_rng_state().numpy()), torch.is_grad_enabled(), torch.get_default_dtype()

    def _mirrors_changed(self) -> bool:
        if any(_state(tensor) != self.synced.get(mid) for mid, tensor in self.tensors.items()):
            return True
        return any(bytes(g.get_state().numpy()) != self.generator_states.get(gid) for gid, g in self.generators.items())

    def _backward(self, call_id: int, grads: object) -> list:
        """Vector-Jacobian products for the caller's leaves; every other leaf here accumulates as usual."""
        if call_id not in self.graphs:
            raise RuntimeError("the graph of this result was already freed")
        outputs, leaves = self.graphs[call_id]
        grads = _list(grads)
        if len(grads) != len(outputs):
            raise ProtocolError("backward got the wrong number of gradients")
        saved = [leaf.grad for leaf in leaves]
        for leaf in leaves:
            leaf.grad = None
        pairs = [(o, g) for o, g in zip(outputs, grads) if g is not None]
        if pairs:
            torch.autograd.backward([o for o, _ in pairs], [g for _, g in pairs], retain_graph=True)
        result = [_Value.of(leaf.grad) for leaf in leaves]
        for leaf, old in zip(leaves, saved):
            leaf.grad = old
            mid = self.tensor_ids.get(id(leaf))
            if mid is not None:
                self.synced[mid] = _state(leaf)
        return result

    def release_unused(self, collect: bool = True) -> None:
        """Forget handles and mirrors only the tables still hold, and tell the other side (between specs, and
        whenever the tables have doubled: every message checks each mirror for changes)."""
        if collect:  # a cycle made during the spec is young; a full collection (100 ms and more) only when many are held
            gc.collect(1)
            if len(self.tensors) + len(self.proxies) > _TIDY_FLOOR:
                gc.collect()
        # Held by the table alone: sys.getrefcount(table[key]) counts the table and its own argument.
        dropped = [hid for hid in list(self.proxies) if sys.getrefcount(self.proxies[hid]) <= 2 and object.__getattribute__(self.proxies[hid], "_path") is None]
        for hid in dropped:
            del self.proxies[hid]
        # A graph kept for the other side's backward holds its tensors for that alone: they need no mirror.
        in_graphs = collections.Counter(id(t) for outputs, leaves in self.graphs.values() for t in (*outputs, *leaves))
        mids = [mid for mid in list(self.tensors) if sys.getrefcount(self.tensors[mid]) <= 2 + in_graphs[id(self.tensors[mid])]]
        for mid in mids:
            self.tensor_ids.pop(id(self.tensors.pop(mid)), None)
            self.synced.pop(mid, None)
        if dropped or mids:
            self.request("release", [dropped, mids])

    def _release(self, lists: object) -> None:
        hids, mids = _list(lists, 2)
        for hid in _list(hids):
            obj = self.objects.pop(_int(hid), None)
            if obj is not None:
                self.object_ids.pop(id(obj), None)
        for mid in _list(mids):
            tensor = self.tensors.pop(_int(mid), None)
            if tensor is not None:
                self.tensor_ids.pop(id(tensor), None)
                self.synced.pop(_int(mid), None)


# --------------------------------------------------------------------------------------------- validation

_ALLOWED_DUNDERS = frozenset({"__call__", "__len__", "__getitem__", "__setitem__", "__enter__", "__exit__"})


def _check_callback(op: str, args: list) -> None:
    """What the child may ask of the trusted side's objects (a spec's model or function handed to the learner).

    It may use them as the learner's code could in one process: read, call, assign attributes and items
    (``resize_token_embeddings`` replaces a spec model's embedding). It may not import, reach through dunder
    attributes (``__globals__``, ``__dict__``, ``__class__``) or get hold of modules, frames or code: from a spec's
    object it cannot get to the spec's oracles, only to that object.
    """
    if op == "import":
        raise PermissionError("the learner's code may not import through the grader")
    if op in ("getattr", "setattr", "delattr", "call_method"):
        name = _str(args[1])
        if name.startswith("__") and name not in _ALLOWED_DUNDERS:
            raise PermissionError(f"the learner's code may not use {name} of the spec's objects")


def _graph_leaves(outputs: list[torch.Tensor]) -> set[int]:
    """ids of the leaf tensors that ``outputs`` were computed from (their graph's AccumulateGrad nodes)."""
    found, seen = set(), set()
    stack = [t.grad_fn for t in outputs if t.grad_fn is not None]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        variable = getattr(node, "variable", None)
        if isinstance(variable, torch.Tensor):
            found.add(id(variable))
        stack.extend(next_node for next_node, _ in node.next_functions)
    return found


def _snapshot_or_iterator(target: object) -> object:
    """A container's items now; an iterator (a generator, a stream) itself, to be drawn one item at a time."""
    iterator = iter(target)
    return iterator if iterator is target else list(iterator)


def _flat(items: list) -> list:
    """A container's contents for an identity comparison: dict items as key, value, key, value..."""
    return [x for item in items for x in (item if type(item) is tuple and len(item) == 2 else (item,))]


def _walk(value: object, skip: dict | None = None):
    """``value`` and, depth first, what its lists, tuples and dicts hold (not inside the objects in ``skip``)."""
    if skip and id(value) in skip:
        return
    yield value
    if type(value) in (list, tuple):
        for item in value:
            yield from _walk(item, skip)
    elif type(value) is dict:
        for item in value.values():
            yield from _walk(item, skip)


def _fail(what: str):
    raise ProtocolError(f"invalid {what}")


def _str(value: object) -> str:
    return value if type(value) is str else _fail("string")


def _int(value: object) -> int:
    return value if type(value) is int else _fail("integer")


def _list(value: object, length: int | None = None) -> list:
    if type(value) is not list or (length is not None and len(value) != length):
        _fail("list")
    return value


def _kwargs(value: object) -> dict:
    if type(value) is not dict or not all(type(k) is str for k in value):
        _fail("keyword arguments")
    return value


def _shape(value: object) -> list[int]:
    shape = [_int(x) for x in _list(value)]
    if len(shape) > 16 or any(x < 0 for x in shape):
        _fail("shape")
    return shape


def _blob(blobs: list[bytes], index: object) -> bytes:
    index = _int(index)
    if not 0 <= index < len(blobs):
        _fail("blob index")
    return blobs[index]


def _tensor(dtype: torch.dtype, shape: list[int], data: bytes) -> torch.Tensor:
    count = math.prod(shape)
    if len(data) != count * torch.empty((), dtype=dtype).element_size():
        _fail("tensor size")
    if count == 0:
        return torch.empty(shape, dtype=dtype)
    return torch.frombuffer(bytearray(data), dtype=dtype).reshape(shape).clone()


def _array(dtype: np.dtype, shape: list[int], data: bytes) -> np.ndarray:
    if len(data) != math.prod(shape) * dtype.itemsize:
        _fail("array size")
    return np.frombuffer(data, dtype=dtype).reshape(shape).copy()


def _file_offset(array: np.memmap) -> int:
    """Where a (possibly sliced) memory-mapped array starts in its file: np.memmap keeps its parent's offset."""
    import mmap

    start = array.offset - array.offset % mmap.ALLOCATIONGRANULARITY  # where numpy's mmap of the file begins
    base = np.frombuffer(array._mmap, dtype=np.uint8).ctypes.data if array._mmap is not None else array.ctypes.data
    return start + array.ctypes.data - base


def _tensor_bytes(tensor: torch.Tensor) -> bytes:
    tensor = tensor.detach().contiguous()
    if tensor.dtype == torch.bfloat16:
        return tensor.view(torch.int16).numpy().tobytes()
    if tensor.is_conj():
        tensor = tensor.resolve_conj()
    return tensor.numpy().tobytes()


def _state(tensor: torch.Tensor) -> tuple:
    if tensor.is_inference():  # no version counter, and no in-place change outside inference mode
        return ((None, tuple(tensor.shape), tensor.dtype), None, False)
    try:
        grad = tensor.grad if tensor.is_leaf else None
    except RuntimeError:  # a no_grad view whose base changed under grad mode: torch refuses to say; no grad to send
        grad = None
    return (
        (tensor._version, tuple(tensor.shape), tensor.dtype),
        (id(grad), grad._version) if grad is not None else None,
        tensor.requires_grad,
    )


def _set_rng_state(state: bytes) -> None:
    try:
        torch.set_rng_state(torch.frombuffer(bytearray(state), dtype=torch.uint8))
    except (RuntimeError, ValueError):
        raise ProtocolError("an invalid random number generator state") from None


def _set_generator_state(generator: torch.Generator, state: bytes) -> None:
    try:
        generator.set_state(torch.frombuffer(bytearray(state), dtype=torch.uint8))
    except (RuntimeError, ValueError):
        raise ProtocolError("an invalid generator state") from None


def _replace(value: object, swap: dict[int, torch.Tensor]) -> object:
    if isinstance(value, torch.Tensor):
        return swap.get(id(value), value)
    if type(value) in (list, tuple):
        items = [_replace(item, swap) for item in value]
        return items if type(value) is list else tuple(items)
    if type(value) is dict:
        return {k: _replace(v, swap) for k, v in value.items()}
    return value


def _text(exc: BaseException) -> str:
    if isinstance(exc, KeyError) and exc.args:
        return str(exc.args[0])[:MAX_TEXT]
    return str(exc)[:MAX_TEXT]


def _exception(message: dict) -> BaseException:
    name, text = message.get("type"), message.get("text")
    if type(name) is not str or type(text) is not str:
        raise ProtocolError("an error without type or text")
    cls = _EXCEPTIONS.get(name)
    if cls is None:
        return RuntimeError(f"{name}: {text}" if text else name)
    if cls is UnicodeError:
        return ValueError(text)
    return cls(text)


# --------------------------------------------------------------------------------------------- the child


def serve_child(sock: socket.socket, tree: str) -> None:
    """The sandboxed child's loop: import from ``tree`` and answer requests until the channel closes."""
    sys.path[:0] = [tree]
    # A process the learner's code forks must not write into the channel (it would garble its own answers).
    os.register_at_fork(after_in_child=sock.close)
    peer = Peer(Channel(sock), side=1)
    while True:
        try:
            message, blobs = peer.receive()
        except (EOFError, OSError):
            return
        if message["k"] != "req":
            raise ProtocolError("the trusted side answered a request it was not asked")
        peer.serve_one(message, blobs)


# --------------------------------------------------------------------------------------------- the trusted side


class Sandboxed:
    """The trusted side's link to the learner's process: spawns it, restarts it after a loss, kills it."""

    def __init__(self, spawn: Callable[[], tuple[socket.socket, Callable[[], None]]], timeout: float) -> None:
        self._spawn, self.timeout = spawn, timeout
        self.peer: Peer | None = None
        self._kill: Callable[[], None] | None = None
        self.generation = 0
        self.spec_deadline: float | None = None
        self.user: int | None = None
        self.shared: list[Path] = []  # the specs' temporary folders: what the spec writes there, the learner may read
        self._depth = 0  # requests in flight (a callback's own requests nest)
        self._tidy_at = _TIDY_FLOOR  # handles and mirrors held when unused ones are next released

    def _ensure(self) -> Peer:
        if self.peer is None:
            sock, self._kill = self._spawn()
            self.generation += 1
            self.peer = Peer(Channel(sock), side=0)
            self.peer.generation, self.peer.front = self.generation, self
        return self.peer

    def end(self) -> None:
        if self._kill is not None:
            self._kill()
        if self.peer is not None:
            self.peer.channel.sock.close()
            self.peer.generation = -1  # every handle of that child is now lost
        self.peer, self._kill = None, None

    def request(self, op: str, *args: object) -> object:
        peer = self._ensure()
        peer.deadline = self.spec_deadline or time.monotonic() + self.timeout
        for folder in self.shared:
            _hand_over(folder, self.user)
        peer.busy = True
        try:
            if op == "release_unused":
                peer.release_unused()
                peer.busy = False
                return None
            self._depth += 1
            try:
                value = peer.request(op, *args)
            finally:
                self._depth -= 1
            if self._depth == 0 and len(peer.tensors) + len(peer.proxies) > self._tidy_at:
                peer.release_unused(collect=False)
                self._tidy_at = max(_TIDY_FLOOR, 2 * (len(peer.tensors) + len(peer.proxies)))
            return value
        except Timeout:
            self.end()
            raise Timeout(f"the learner's code did not finish within the spec's time limit ({self.timeout:g} s): an endless loop?") from None
        except (EOFError, ConnectionError, OSError) as exc:
            if not peer.busy:  # the learner's own OSError, answered in good order
                raise
            self.end()
            raise RemoteLost(f"the learner's process ended during this spec ({exc})") from None
        except ProtocolError as exc:
            self.end()
            raise RemoteLost(f"the learner's process sent malformed data and was ended: {exc}") from None
        finally:
            if self.peer is not None:
                self.peer.deadline = None
                if self.peer.busy:  # interrupted mid-message (pytest-timeout, Ctrl-C): the channel is out of step
                    self.end()


_LINK: Sandboxed | None = None


def install(link: Sandboxed) -> None:
    """Make ``link`` the channel that proxy modules of this process use."""
    global _LINK
    _LINK = link


def current_link() -> Sandboxed | None:
    """The link of a grading run, or None in a learner's own pytest run."""
    return _LINK


def link() -> Sandboxed:
    if _LINK is None:
        raise RuntimeError("no sandboxed learner process: proxy modules are for grading runs only")
    return _LINK


def module_getattr(module_name: str) -> Callable[[str], object]:
    """The ``__getattr__`` of a proxy module: each name is a handle on the learner's module attribute."""

    def __getattr__(name: str) -> object:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        named = _NamedRemote(module_name, name)
        value = named._target()
        return named if isinstance(value, Remote) else value  # a constant is just its value

    return __getattr__


class _NamedRemote:
    """A name taken from a learner module: looked up in whichever child is current when it is used."""

    __slots__ = ("_module", "_name", "_cache", "__weakref__")

    def __init__(self, module: str, name: str) -> None:
        object.__setattr__(self, "_module", module)
        object.__setattr__(self, "_name", name)
        object.__setattr__(self, "_cache", None)

    def _target(self) -> object:
        current = link()
        cache = object.__getattribute__(self, "_cache")
        if cache is not None and cache[0] == current.generation and current.peer is not None:
            return cache[1]
        module = current.request("import", object.__getattribute__(self, "_module"))
        if not isinstance(module, Remote):
            raise RemoteLost("the learner's module did not import as a module")
        value = current.request("getattr", module, object.__getattribute__(self, "_name"))
        object.__setattr__(self, "_cache", (current.generation, value))
        return value

    @property
    def __class__(self):  # noqa: D105
        target = self._target()
        return target.__class__ if isinstance(target, Remote) else type(target)

    def __getattr__(self, name: str) -> object:
        return getattr(self._target(), name)

    def __call__(self, *args: object, **kwargs: object) -> object:
        return self._target()(*args, **kwargs)

    def __mro_entries__(self, bases: tuple) -> tuple:
        raise TypeError(
            f"a spec cannot subclass the learner's {object.__getattribute__(self, '_name')} when grading: it lives in "
            "the sandboxed process; wrap an instance instead"
        )

    def __instancecheck__(self, instance: object) -> bool:
        target = self._target()
        return isinstance(instance, target) if isinstance(target, (Remote, type)) else False

    def __subclasscheck__(self, subclass: object) -> bool:
        target = self._target()
        return issubclass(subclass, target) if isinstance(target, (Remote, type)) else False

    def __repr__(self) -> str:
        return repr(self._target())


def proxy_module_source(module_name: str) -> str:
    """The text of a proxy module in the trusted overlay, standing for the learner's ``module_name``."""
    return (
        f'"""Grading proxy: the names of the learner\'s {module_name} are served by the sandboxed process."""\n'
        f"from grader.sandbox.remote import module_getattr\n\n__getattr__ = module_getattr({module_name!r})\n"
    )


# --------------------------------------------------------------------------------------------- spawning


def _purge_course_modules() -> None:
    """Forget the trusted tree's packages, so that the child imports ``exercises`` from its own overlay."""
    for name in [n for n in sys.modules if n == "exercises" or n.startswith("exercises.")]:
        del sys.modules[name]


def start_template(tree: str, confine: Callable[[], None]) -> socket.socket:
    """Fork a clean template process now, before any spec is imported; it forks one child per spawn request.

    The template holds nothing of the specs, snapshots or reference that the trusted process imports later,
    so neither do the children it forks. ``confine`` runs in each child before any learner code.
    """
    ours, theirs = socket.socketpair()
    if os.fork() == 0:
        ours.close()
        try:
            _template_loop(theirs, tree, confine)
        finally:
            os._exit(0)
    theirs.close()
    return ours


def _template_loop(control: socket.socket, tree: str, confine: Callable[[], None]) -> None:
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(control, 16, 1)
        except OSError:
            return
        if not message or not fds:
            return
        pid = os.fork()
        if pid == 0:
            control.close()
            code = 0
            try:
                os.setsid()
                _purge_course_modules()
                confine()
                serve_child(socket.socket(fileno=fds[0]), tree)
            except BaseException:  # noqa: BLE001 - this child is thrown away: say why on its stderr
                import traceback

                traceback.print_exc()
                code = 70
            finally:
                os._exit(code)
        os.close(fds[0])
        control.sendall(struct.pack("<i", pid))
        try:
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        except ChildProcessError:
            pass


def spawner(control: socket.socket, kill: Callable[[int], None]) -> Callable[[], tuple[socket.socket, Callable[[], None]]]:
    """A ``spawn`` for :class:`Sandboxed`: asks the template for a child and says how to end it."""

    def spawn() -> tuple[socket.socket, Callable[[], None]]:
        ours, theirs = socket.socketpair()
        socket.send_fds(control, [b"s"], [theirs.fileno()])
        theirs.close()
        (pid,) = struct.unpack("<i", control.recv(4))
        return ours, lambda: kill(pid)

    return spawn


# --------------------------------------------------------------------------------------------- the grading run


class GradingPlugin:
    """A pytest plugin for the trusted process of a grading run: the link to the learner's child, per spec.

    Each spec has ``spec_timeout`` seconds of the learner's time in all (a spec that sleeps just under the
    limit in every call still ends at it); between specs the handles no one holds are released; ``tmp_path``
    is handed to the child's uid, since the spec passes it to the learner's code.
    """

    def __init__(self, spawn: Callable[[], tuple[socket.socket, Callable[[], None]]], sandbox: dict) -> None:
        self.link = Sandboxed(spawn, timeout=float(sandbox["spec_timeout"]))
        self.user = sandbox.get("user")
        self.link.user = self.user
        install(self.link)

    def pytest_sessionstart(self, session) -> None:  # noqa: ANN001
        """Property specs report the failing example they find without shrinking it: each shrinking step would be
        a round trip to the learner's process, and a grade needs the verdict, not the smallest example."""
        try:
            from hypothesis import Phase, settings
        except ImportError:  # pragma: no cover - hypothesis comes with the dev extra
            return
        settings.register_profile("grading", settings(phases=(Phase.explicit, Phase.reuse, Phase.generate)))
        settings.load_profile("grading")

    def pytest_collection_finish(self, session) -> None:  # noqa: ANN001
        gc.freeze()  # the specs' modules and their oracles (transformers...) live all run: no collection walks them

    def pytest_runtest_setup(self, item) -> None:  # noqa: ANN001
        self.link.spec_deadline = time.monotonic() + self.link.timeout

    def pytest_runtest_teardown(self, item) -> None:  # noqa: ANN001
        self.link.shared = [p for p in self.link.shared if p.exists()]
        self.link.spec_deadline = time.monotonic() + self.link.timeout
        if self.link.peer is not None:
            try:
                self.link.request("release_unused")
            except Exception as exc:  # noqa: BLE001 - a child that cannot tidy up is replaced
                print(f"llmfs: the learner's process was replaced after {item.nodeid}: {exc}", file=sys.stderr)
                self.link.end()
        self.link.spec_deadline = None

    @pytest.hookimpl(hookwrapper=True)
    def pytest_fixture_setup(self, fixturedef, request):  # noqa: ANN001
        outcome = yield
        if self.user is None or fixturedef.argname not in ("tmp_path", "tmpdir", "tmp_path_factory"):
            return
        try:
            value = outcome.get_result()
        except BaseException:  # noqa: BLE001
            return
        path = Path(value.getbasetemp()) if fixturedef.argname == "tmp_path_factory" else Path(value)
        _give(path, int(self.user))
        if path not in self.link.shared:
            self.link.shared.append(path)

    def pytest_unconfigure(self) -> None:
        self.link.end()


def _hand_over(folder: Path, user: int | None) -> None:
    """Give ``user`` the files this process made in ``folder`` (a spec's ``tmp_path``, handed to the learner).

    Only regular files and folders this process owns are changed, each through a descriptor opened without
    following links, and a file only while it has one name: a link the learner's code planted (to
    ``/etc/shadow``, say) is never followed and never changes hands.
    """
    if user is None:
        return
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            try:
                fd = os.open(os.path.join(root, name), os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
            except OSError:
                continue
            try:
                info = os.fstat(fd)
                plain = stat.S_ISDIR(info.st_mode) or (stat.S_ISREG(info.st_mode) and info.st_nlink == 1)
                if info.st_uid == os.geteuid() and plain:
                    os.fchown(fd, user, user)
            finally:
                os.close(fd)


def _give(path: Path, user: int) -> None:
    """Let ``user`` write in ``path`` and pass through the folders above it (pytest makes them 0700)."""
    os.chown(path, user, user)
    for parent in list(path.parents)[:4]:
        try:
            os.chmod(parent, os.stat(parent).st_mode | 0o711)
        except OSError:
            break
