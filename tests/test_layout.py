"""The layout's one rule: a room imports only rooms below it (ARCHITECTURE.md).

Every import in the package is read with ``ast`` (also those inside functions), resolved to
the room it lands in, and checked against the order below. ``sources`` and ``engine`` are
siblings: neither may import the other.
"""

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "thuisdichtbij"

#: Rank of each room; a module may import its own room and rooms of a lower rank.
RANK = {"base": 0, "sources": 1, "engine": 1, "outputs": 2, "analyses": 3, "scan": 4, "apps": 5}
SUBPACKAGES = {"sources", "engine", "outputs", "analyses", "apps"}
#: The package's front door re-exports the public API from every room.
FACADE = "thuisdichtbij"


def _module_name(path: Path, root: Path = PKG) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _room(module: str) -> str:
    parts = module.split(".")
    if len(parts) < 2:
        return "facade"
    if parts[1] in SUBPACKAGES:
        return parts[1]
    if parts[1] in ("scan", "pipeline"):  # scan.py lists the stages, pipeline/ does them
        return "scan"
    return "base"


def _imports(path: Path, root: Path = PKG):
    """(line, absolute module) for every import of the package's own modules in ``path``."""
    name = _module_name(path, root)
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("thuisdichtbij"):
                continue
            if node.module is None:  # from . import x: each name may be a module
                for alias in node.names:
                    yield node.lineno, f"{target}.{alias.name}"
            else:
                yield node.lineno, target
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("thuisdichtbij"):
                    yield node.lineno, alias.name


def _violations(root: Path = PKG) -> list[str]:
    bad = []
    for path in sorted(root.rglob("*.py")):
        src = _module_name(path, root)
        if src == FACADE:
            continue
        src_room = _room(src)
        for line, target in _imports(path, root):
            dst_room = _room(target)
            if dst_room == "facade":
                # `from .. import __version__` and the like: only the apps may use the front door
                if src_room != "apps":
                    bad.append(f"{path.name}:{line} {src} imports the package front door")
                continue
            if dst_room == src_room:
                continue
            if RANK[dst_room] > RANK[src_room] or (
                RANK[dst_room] == RANK[src_room] and dst_room != src_room
            ):
                bad.append(
                    f"{path.relative_to(root)}:{line} ({src_room}) imports {target} ({dst_room})"
                )
    return bad


def test_no_room_imports_a_room_above_it():
    assert _violations() == []


def _exists(module: str, root: Path = PKG) -> bool:
    base = root.parent.joinpath(*module.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def test_every_import_of_the_package_names_a_module_that_exists():
    # imports inside functions run only when called: a wrong relative import after a move
    # would otherwise surface as a traceback in the user's hands
    wrong = []
    for path in sorted(PKG.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        froms = {n.lineno for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        for line, target in _imports(path):
            # `from .x import name`: x must be a module; `from . import x`: x a module or a name
            ok = _exists(target) or (line not in froms and _exists(target.rsplit(".", 1)[0]))
            if not ok:
                wrong.append(f"{path.relative_to(PKG)}:{line} {target}")
    assert wrong == []


def test_every_module_sits_in_a_known_room():
    rooms = {_room(_module_name(p)) for p in PKG.rglob("*.py")}
    assert rooms <= set(RANK) | {"facade"}
    # each room holds modules: the listing reads as the flow
    assert set(RANK) <= rooms


@pytest.mark.parametrize(
    ("source", "text"),
    [
        ("engine/snap.py", "from ..sources.osm import read_osm_ways\n"),  # sibling
        ("engine/score.py", "from ..outputs.export import write_gpkg\n"),  # upward
        ("outputs/export.py", "def f():\n    from ..analyses import zones\n"),  # lazy, upward
        ("sources/points.py", "from thuisdichtbij.apps.cli import main\n"),  # absolute, upward
    ],
)
def test_the_rule_catches_an_upward_import(tmp_path, source, text):
    # a copy of the package with one bad import added must be caught
    import shutil

    copy = tmp_path / "thuisdichtbij"
    shutil.copytree(PKG, copy, ignore=shutil.ignore_patterns("static", "__pycache__"))
    target = copy / source
    target.write_text(target.read_text(encoding="utf-8") + "\n" + text, encoding="utf-8")
    found = _violations(copy)
    assert len(found) == 1 and source in found[0]


#: A function's body (without its docstring) longer than this needs a reason, written as a
#: comment starting with "# long:" on the lines just above its ``def``.
MAX_BODY_LINES = 60


def _long_functions(root: Path = PKG) -> list[str]:
    long = []
    for path in sorted(root.rglob("*.py")):
        lines = path.read_text(encoding="utf-8").splitlines()
        for node in ast.walk(ast.parse("\n".join(lines))):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            body = node.body
            first = body[0]
            has_doc = (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
                and len(body) > 1
            )
            start = body[1].lineno if has_doc else first.lineno
            n = node.end_lineno - start + 1
            top = min([node.lineno] + [d.lineno for d in node.decorator_list])
            above = lines[max(0, top - 4) : top - 1]
            if n > MAX_BODY_LINES and not any(x.strip().startswith("# long:") for x in above):
                long.append(f"{path.relative_to(root)}:{node.lineno} {node.name} ({n} lines)")
    return long


def test_no_function_is_longer_than_a_screen_without_a_reason():
    assert _long_functions() == []


def test_the_length_rule_catches_a_long_function(tmp_path):
    pkg = tmp_path / "thuisdichtbij"
    pkg.mkdir()
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_BODY_LINES + 1))
    (pkg / "a.py").write_text(f'def f():\n    """Doc."""\n{body}\n', encoding="utf-8")
    (pkg / "b.py").write_text(f"# long: a table\ndef g():\n{body}\n", encoding="utf-8")
    short = "\n".join(f"    x{i} = {i}" for i in range(MAX_BODY_LINES))
    (pkg / "c.py").write_text(f'def h():\n    """Doc."""\n{short}\n', encoding="utf-8")
    assert _long_functions(pkg) == [f"a.py:1 f ({MAX_BODY_LINES + 1} lines)"]
