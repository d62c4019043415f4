"""The compiled loops of annealing and steepest descent acquire no array references per move.

numba acquires a reference to every array of a NamedTuple argument where it inlines a
function that takes one, and releases them at the end of the inlined body. Its
reference-count pruning removes such pairs only in simple control flow. Array updates
inside branches, or an inlined apply inside the acceptance test of each branch, were
enough to keep them, and then every move paid dozens of atomic operations: an apply took
7 times as long. These tests compile fresh copies of the loops, because cached code keeps
no IR, and check that no acquisition lies in a basic block on a loop of the control flow.
"""

from __future__ import annotations

import re

import numpy as np
from numba import njit

from smartplan.encode import encode
from smartplan.engine.anneal import N_COUNTERS, anneal_chain
from smartplan.engine.build import build_model
from smartplan.engine.kernels import recompute_state
from smartplan.engine.model import Model, State
from smartplan.engine.rng import chain_streams
from smartplan.engine.steepest import relocation_reach, steepest_descent
from smartplan.spec import spec_from_dict

from .conftest import random_accounts
from .test_kernels import SPEC


def _acquisitions_in_loops(function, args: tuple) -> tuple[int, int]:
    """Count the reference acquisitions in the compiled body of `function`.

    Returns the acquisitions in all and those in a basic block that lies on a loop.
    """
    skipped = ("cache", "nopython")  # njit sets nopython itself, and warns when given it
    options = {key: value for key, value in function.targetoptions.items() if key not in skipped}
    fresh = njit(**options)(function.py_func)
    fresh(*args)
    module = next(iter(fresh.inspect_llvm().values()))
    prefix = "_ZN" + "".join(
        f"{len(part)}{part}" for part in [*function.__module__.split("."), function.__name__]
    )
    # The wrappers that convert Python objects or C arguments have other prefixes.
    bodies = [
        chunk
        for chunk in module.split("\ndefine ")[1:]
        if (symbol := re.search(r"@([\w.$]+)", chunk)) and symbol.group(1).startswith(prefix)
    ]
    assert len(bodies) == 1, f"expected one compiled body with prefix {prefix}"
    blocks: dict[str, str] = {}
    label = ""
    body = bodies[0].split("{\n", 1)[1].split("\n}\n", 1)[0]
    for line in body.splitlines():
        if match := re.match(r'^"?([\w.$-]+)"?:', line):
            label = match.group(1)
        blocks[label] = blocks.get(label, "") + line + "\n"
    successors = {
        name: set(re.findall(r'label %"?([\w.$-]+)', text)) for name, text in blocks.items()
    }
    total = 0
    in_loops = 0
    for name, text in blocks.items():
        count = text.count("@NRT_incref(")
        total += count
        if count and _on_a_loop(name, successors):
            in_loops += count
    return total, in_loops


def _on_a_loop(start: str, successors: dict[str, set[str]]) -> bool:
    """Return whether basic block `start` can reach itself."""
    seen: set[str] = set()
    todo = list(successors[start])
    while todo:
        name = todo.pop()
        if name == start:
            return True
        if name not in seen:
            seen.add(name)
            todo.extend(successors.get(name, ()))
    return False


def _model_and_state() -> tuple[Model, State, np.ndarray]:
    encoding = encode(random_accounts(30, 1, territories=4), spec_from_dict(SPEC))
    built = build_model(encoding)
    model = built.model
    state = recompute_state(model, np.arange(model.unit_pin.shape[0], dtype=np.int32) % 4)
    return model, state, built.preferred


def test_anneal_loop_acquires_nothing() -> None:
    model, state, _ = _model_and_state()
    rng = chain_streams(1, 1)[0]
    counters = np.zeros(N_COUNTERS, dtype=np.int64)
    args = (model, state, rng, 1_000, 1.0, 0.1, 0.3, counters)
    total, in_loops = _acquisitions_in_loops(anneal_chain, args)
    assert in_loops == 0
    # The parser found the body: numba acquires the array arguments at entry.
    assert total > 0


def test_steepest_loop_acquires_nothing() -> None:
    model, state, preferred = _model_and_state()
    reach = relocation_reach(model)
    log = np.zeros(64, dtype=np.int32)
    counters = np.zeros(N_COUNTERS, dtype=np.int64)
    args = (model, state, 16, log, log.copy(), 0, counters, reach, False, preferred, 10**6)
    total, in_loops = _acquisitions_in_loops(steepest_descent, args)
    assert in_loops == 0
    # The parser found the body: numba acquires the array arguments at entry.
    assert total > 0
