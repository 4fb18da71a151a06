"""Mutation testing of the engine: do the fast tests notice a wrong answer?

Each mutant changes one operator or one constant in one engine module (``<`` to ``<=``,
``+`` to ``-``, ``0`` to ``1``, ``np.minimum`` to ``np.maximum``, ``"first"`` to ``"last"``,
a ``not`` or a unary minus dropped, ...); the fast engine tests then run against it. A
mutant is *killed* when a test fails (or the run exceeds its time limit), else it
*survives*. Prints the score per module and every survivor. Not part of CI: a developer
command, run before and after changing the engine or its tests::

    python benchmarks/mutate.py                       # all five engine modules
    python benchmarks/mutate.py snap score --jobs 2   # some modules, two at a time
    python benchmarks/mutate.py --list network        # the mutants, without running tests
    python benchmarks/mutate.py --only snap.py:76 aggregate.py:58   # those lines' mutants

Docstrings, type annotations, ``__all__``, the arguments of logging calls and the messages
of raised errors are left alone: they cannot change an answer. The surviving mutants that
cannot change behaviour either are listed, with the reason, in
``benchmarks/results/mutation.md``.

Why not mutmut: mutmut 3 leaves properties (``Network.length_km``) and module constants
(``NODE_PRECISION_M``, ``_SOURCE_OFFSET_M``) unmutated and mutates every message string;
this script covers the former and skips the latter. Standard library only; each mutant
runs in a forked copy of a process that has already imported numpy, pandas, geopandas and
pytest, in a private copy of the repository, so the working tree is never touched.
"""

from __future__ import annotations

import argparse
import ast
import copy
import os
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ENGINE = REPO / "thuisdichtbij" / "engine"
MODULES = ("score", "distance", "snap", "aggregate", "network", "rows")
#: The engine's own fast tests per module, the most direct first (``-x`` stops at the first
#: failure, so a killed mutant costs little).
TESTS = {
    "score": (
        "tests/test_score.py",
        "tests/test_distance.py",
        "tests/test_sensitivity.py::test_band_sensitivity_by_hand",
    ),
    "distance": ("tests/test_distance.py", "tests/test_snap.py", "tests/test_network.py"),
    "snap": ("tests/test_snap.py", "tests/test_distance.py", "tests/test_network.py"),
    "aggregate": ("tests/test_aggregate.py",),
    "network": ("tests/test_network.py", "tests/test_snap.py", "tests/test_distance.py"),
    "rows": ("tests/test_snap.py::test_unique_rows_as_numpy_finds_them", "tests/test_network.py"),
}
#: What the copy of the repository needs to import the package and run the tests.
COPY = ("thuisdichtbij", "tests", "config", "indicators", "data", "pyproject.toml")

_BINOP = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.FloorDiv: ast.Div,
    ast.Mod: ast.FloorDiv,
    ast.Pow: ast.Mult,
    ast.BitAnd: ast.BitOr,
    ast.BitOr: ast.BitAnd,
}
_CMP = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
}
_NAMES = {
    "minimum": "maximum",
    "maximum": "minimum",
    "min": "max",
    "max": "min",
    "argmin": "argmax",
    "argmax": "argmin",
    "any": "all",
    "all": "any",
    "floor": "ceil",
    "ceil": "floor",
}
_STRINGS = {
    "left": "right",
    "right": "left",
    "first": "last",
    "last": "first",
    "intersects": "within",
    "neutral": "rescale",
    "rescale": "neutral",
    "quantile": "stddev",
    "stddev": "quantile",
}
_LOG_CALLS = {"debug", "info", "warning", "error", "exception"}


@dataclass(frozen=True)
class Mutant:
    module: str
    index: int  # position of the node in ast.walk order
    line: int
    what: str


def _skipped(tree: ast.Module) -> set[int]:
    """ids of nodes that cannot change an answer: docstrings, annotations, logs, messages."""
    skip: set[ast.AST] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            if isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
                skip.add(body[0])
        if isinstance(node, ast.arg | ast.AnnAssign) and node.annotation is not None:
            skip.add(node.annotation)
        if isinstance(node, ast.FunctionDef) and node.returns is not None:
            skip.add(node.returns)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in _LOG_CALLS and getattr(node.func.value, "id", "") == "log":
                skip.add(node)
        if isinstance(node, ast.Raise) and node.exc is not None:
            skip.add(node.exc)
        if isinstance(node, ast.Assign) and any(
            getattr(t, "id", "") == "__all__" for t in node.targets
        ):
            skip.add(node)
    return {id(n) for s in skip for n in ast.walk(s)}


def _variants(node: ast.AST) -> list[tuple[str, object]]:
    """(description, change) pairs for one node; a change is applied by :func:`_apply`."""
    out: list[tuple[str, object]] = []
    if isinstance(node, ast.BinOp | ast.AugAssign) and type(node.op) in _BINOP:
        new = _BINOP[type(node.op)]
        out.append((f"{type(node.op).__name__} -> {new.__name__}", ("op", new)))
    elif isinstance(node, ast.Compare):
        for i, op in enumerate(node.ops):
            if type(op) in _CMP:
                new = _CMP[type(op)]
                out.append((f"{type(op).__name__} -> {new.__name__}", ("cmp", i, new)))
    elif isinstance(node, ast.BoolOp):
        new = ast.Or if isinstance(node.op, ast.And) else ast.And
        out.append((f"{type(node.op).__name__} -> {new.__name__}", ("op", new)))
    elif isinstance(node, ast.UnaryOp) and not isinstance(node.op, ast.UAdd):
        out.append((f"drop {type(node.op).__name__}", ("unwrap",)))
    elif isinstance(node, ast.Constant):
        v = node.value
        if isinstance(v, bool):
            out.append((f"{v} -> {not v}", ("const", not v)))
        elif isinstance(v, int | float):
            new = {0: 1, 1: 0}.get(v, v + 1) if isinstance(v, int) else (1.0 if v == 0 else 0.0)
            if isinstance(v, float) and v not in (0.0, 1.0):
                new = v * 2
            out.append((f"{v!r} -> {new!r}", ("const", type(v)(new))))
        elif isinstance(v, str) and v in _STRINGS:
            out.append((f"{v!r} -> {_STRINGS[v]!r}", ("const", _STRINGS[v])))
    elif isinstance(node, ast.Attribute) and node.attr in _NAMES:
        out.append((f".{node.attr} -> .{_NAMES[node.attr]}", ("attr", _NAMES[node.attr])))
    elif isinstance(node, ast.Name) and node.id in _NAMES and isinstance(node.ctx, ast.Load):
        out.append((f"{node.id} -> {_NAMES[node.id]}", ("name", _NAMES[node.id])))
    return out


def mutants(module: str) -> list[tuple[Mutant, object]]:
    """Every mutant of ``engine/<module>.py`` with the change that makes it."""
    tree = ast.parse((ENGINE / f"{module}.py").read_text())
    skip = _skipped(tree)
    out = []
    for i, node in enumerate(ast.walk(tree)):
        if id(node) in skip:
            continue
        for what, change in _variants(node):
            out.append((Mutant(module, i, getattr(node, "lineno", 0), what), change))
    return out


def _apply(module: str, index: int, change: tuple) -> str:
    tree = ast.parse((ENGINE / f"{module}.py").read_text())
    parents = {id(c): p for p in ast.walk(tree) for c in ast.iter_child_nodes(p)}
    node = list(ast.walk(tree))[index]
    kind = change[0]
    if kind == "op":
        node.op = change[1]()
    elif kind == "cmp":
        node.ops[change[1]] = change[2]()
    elif kind == "const":
        node.value = change[1]
    elif kind == "attr":
        node.attr = change[1]
    elif kind == "name":
        node.id = change[1]
    elif kind == "unwrap":
        parent = parents[id(node)]
        for field, value in ast.iter_fields(parent):
            if value is node:
                setattr(parent, field, copy.deepcopy(node.operand))
            elif isinstance(value, list):
                value[:] = [copy.deepcopy(node.operand) if v is node else v for v in value]
    return ast.unparse(ast.fix_missing_locations(tree))


def _copy_repo(into: Path) -> Path:
    for name in COPY:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, into / name, ignore=shutil.ignore_patterns("__pycache__"))
        elif src.exists():
            shutil.copy2(src, into / name)
    return into


def _start(root: Path, tests: tuple[str, ...], source: str | None, module: str) -> int:
    """Fork a child that writes the mutant into ``root`` and runs the tests there."""
    target = root / "thuisdichtbij" / "engine" / f"{module}.py"
    original = (ENGINE / f"{module}.py").read_text()
    target.write_text(original if source is None else source)
    pid = os.fork()
    if pid:
        return pid
    try:
        os.setsid()
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        os.chdir(root)
        sys.path[:] = [str(root), *[p for p in sys.path if Path(p or ".").resolve() != REPO]]
        import pytest

        code = pytest.main(["-x", "-q", "-p", "no:cacheprovider", *tests])
        os._exit(int(code))
    except BaseException:
        os._exit(99)


def _wait(pid: int, limit_s: float) -> tuple[str, float]:
    t0 = time.perf_counter()
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            code = os.waitstatus_to_exitcode(status)
            return ("survived" if code == 0 else "killed"), time.perf_counter() - t0
        if time.perf_counter() - t0 > limit_s:
            os.killpg(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return "timeout", time.perf_counter() - t0
        time.sleep(0.05)


def run(
    modules: list[str],
    *,
    tests: dict[str, tuple[str, ...]],
    jobs: int,
    only: set[str] | None = None,
) -> dict[str, list]:
    """Run the mutants of ``modules`` against ``tests[module]``; (mutant, outcome) per module.

    ``only``: just the mutants on these lines (``"snap.py:76"``).
    """
    # Imported once here so that every forked child starts with them loaded.
    import geopandas  # noqa: F401
    import pandas  # noqa: F401
    import pytest  # noqa: F401
    import scipy.sparse.csgraph  # noqa: F401

    sys.dont_write_bytecode = True
    work = Path(tempfile.mkdtemp(prefix="mutate-"))
    roots = [_copy_repo(work / f"r{j}") for j in range(jobs)]
    try:
        every = tuple(dict.fromkeys(t for mod in modules for t in tests[mod]))
        pid = _start(roots[0], every, None, modules[0])
        outcome, base_s = _wait(pid, 600)
        if outcome != "survived":
            sys.exit(f"the tests fail without any mutant ({outcome}); fix them first")
        limit = max(10 * base_s, 30.0)
        print(f"tests pass unmutated in {base_s:.1f} s; time limit per mutant {limit:.0f} s")
        todo = [(m, c) for mod in modules for m, c in mutants(mod)]
        if only:
            todo = [(m, c) for m, c in todo if f"{m.module}.py:{m.line}" in only]
        results: dict[str, list] = {mod: [] for mod in modules}
        running: dict[int, tuple[int, Mutant, float]] = {}  # slot -> (pid, mutant, start)
        free = list(range(jobs))
        while todo or running:
            while todo and free:
                slot = free.pop()
                mutant, change = todo.pop(0)
                source = _apply(mutant.module, mutant.index, change)
                for mod in modules:  # restore the other modules in this slot's copy
                    if mod != mutant.module:
                        dst = roots[slot] / "thuisdichtbij" / "engine" / f"{mod}.py"
                        dst.write_text((ENGINE / f"{mod}.py").read_text())
                pid = _start(roots[slot], tests[mutant.module], source, mutant.module)
                running[slot] = (pid, mutant, time.perf_counter())
            for slot, (pid, mutant, t0) in list(running.items()):
                done, status = os.waitpid(pid, os.WNOHANG)
                late = time.perf_counter() - t0 > limit
                if not done and not late:
                    continue
                if done:
                    code = os.waitstatus_to_exitcode(status)
                    outcome = "survived" if code == 0 else "killed"
                else:
                    os.killpg(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)
                    outcome = "timeout"
                results[mutant.module].append((mutant, outcome))
                mark = "SURVIVED" if outcome == "survived" else outcome
                print(f"{mutant.module}.py:{mutant.line}: {mutant.what}: {mark}", flush=True)
                del running[slot]
                free.append(slot)
            time.sleep(0.05)
        return results
    finally:
        shutil.rmtree(work, ignore_errors=True)


def report(results: dict[str, list]) -> None:
    print("\nmodule        mutants  killed  survived  score")
    for mod, rows in results.items():
        n = len(rows)
        alive = [m for m, o in rows if o == "survived"]
        score = 100 * (n - len(alive)) / n if n else 100.0
        print(f"{mod:12s} {n:8d} {n - len(alive):7d} {len(alive):9d} {score:5.1f} %")
    for mod, rows in results.items():
        for m, o in sorted(rows, key=lambda r: r[0].line):
            if o == "survived":
                print(f"  survivor {mod}.py:{m.line}: {m.what}")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("modules", nargs="*", help=f"any of {', '.join(MODULES)} (default: all)")
    p.add_argument("--jobs", type=int, default=1, help="mutants tested at once (default 1)")
    p.add_argument("--tests", nargs="+", help="test files to run (default: per module, TESTS)")
    p.add_argument("--list", action="store_true", help="list the mutants, run nothing")
    p.add_argument("--only", nargs="+", metavar="MODULE.py:LINE", help="just these lines")
    args = p.parse_args(argv)
    modules = args.modules or list(MODULES)
    if args.only:
        modules = sorted({o.split(".py:")[0] for o in args.only} | set(args.modules))
    if set(modules) - set(MODULES):
        p.error(f"unknown module(s) {sorted(set(modules) - set(MODULES))}; pick from {MODULES}")
    if args.list:
        for mod in modules:
            for m, _ in mutants(mod):
                print(f"{mod}.py:{m.line}: {m.what}")
        return
    os.environ.setdefault("THUISDICHTBIJ_DATA", str(REPO.parent / "shared" / "data"))
    tests = {mod: tuple(args.tests) if args.tests else TESTS[mod] for mod in modules}
    only = set(args.only) if args.only else None
    report(run(modules, tests=tests, jobs=args.jobs, only=only))


if __name__ == "__main__":
    main()
