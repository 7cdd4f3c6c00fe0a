"""The package's shape: layers that only import downwards, no import cycles, small modules and
functions, one module that spells statuses, and few untyped values.

Read from the source with ``ast``, so a lazy import inside a function counts as much as one at
the top of a file; imports under ``if TYPE_CHECKING:`` are annotations, not dependencies.
"""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import {{ cookiecutter.package_name }} as package

ROOT = Path(package.__file__).resolve().parent
NAME = package.__name__

# Bottom up; a module may import from its own layer or any layer below it. Top-level modules
# not named here (errors, status, system, faults, *_settings) are the bottom layer.
LAYERS = {
    "settings": 1,
    "settings_schema": 1,
    "db": 2,
    "notify": 2,
    "connections": 2,
    "sql": 3,
    "core": 4,
    "ingest": 5,
    "views": 6,
    "console": 6,
    "cli": 7,
    "runs_command": 7,
    "dashboard": 7,
    "testing": 7,
    "__main__": 8,
}
STATUS_MODULE = "status"
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60
MAX_P90_FUNCTION_LINES = 25
MAX_ANY_ANNOTATIONS = 90  # half of the 181 bare `Any` annotations before the types were tightened


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(path): path for path in sorted(ROOT.rglob("*.py"))}
TREES = {name: ast.parse(path.read_text(encoding="utf-8")) for name, path in MODULES.items()}


def runtime_nodes(tree: ast.Module) -> list[ast.AST]:
    """Every node outside ``if TYPE_CHECKING:`` blocks."""
    typing_only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            typing_only.update(id(inner) for part in node.body for inner in ast.walk(part))
    return [node for node in ast.walk(tree) if id(node) not in typing_only]


def imported_modules(name: str) -> set[str]:
    """The package's modules that ``name`` imports, lazily or not."""
    is_package = MODULES[name].name == "__init__.py"
    found: set[str] = set()
    for node in runtime_nodes(TREES[name]):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if name else []
                if not is_package:
                    base = base[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            elif node.module and (node.module == NAME or node.module.startswith(NAME + ".")):
                target = node.module[len(NAME) + 1 :]
            else:
                continue
            for alias in node.names:
                child = f"{target}.{alias.name}" if target else alias.name
                found.add(child if child in MODULES else target)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith(NAME + "."):
                    found.add(alias.name[len(NAME) + 1 :])
    found.discard(name)
    # a package's __init__ importing its own children is not a cycle of files
    return {m for m in found if m in MODULES and not (is_package and m.startswith(name + "."))}


def layer(name: str) -> int:
    return LAYERS.get(name.split(".")[0], 0)


def function_lengths() -> dict[str, int]:
    return {
        f"{name}:{node.name} (line {node.lineno})": node.end_lineno - node.lineno + 1
        for name, tree in TREES.items()
        for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    }


def test_no_two_modules_import_each_other_even_through_others() -> None:
    graph = {name: imported_modules(name) for name in MODULES}
    try:
        TopologicalSorter(graph).prepare()
    except CycleError as exc:
        raise AssertionError("import cycle: " + " -> ".join(exc.args[1])) from None


def test_no_module_imports_from_a_layer_above_it() -> None:
    upward = sorted(
        f"{name} -> {target}"
        for name in MODULES
        for target in imported_modules(name)
        if layer(target) > layer(name)
    )
    assert upward == []


def test_modules_stay_under_400_lines() -> None:
    sizes = {
        name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in MODULES.items()
    }
    assert {name: n for name, n in sizes.items() if n > MAX_MODULE_LINES} == {}


def test_functions_stay_short() -> None:
    lengths = function_lengths()
    assert {name: n for name, n in lengths.items() if n > MAX_FUNCTION_LINES} == {}
    ordered = sorted(lengths.values())
    assert ordered[int(0.9 * (len(ordered) - 1))] <= MAX_P90_FUNCTION_LINES


def test_statuses_are_spelt_only_in_the_status_module() -> None:
    from {{ cookiecutter.package_name }}.status import CheckStatus, ObjectStatus, RunState, TaskState

    statuses = {s.value for enum in (TaskState, RunState, ObjectStatus) for s in enum}
    statuses |= {"queued", "rejected"}  # words a status vocabulary would take, spelt nowhere
    statuses -= {s.value for s in CheckStatus}  # "error"/"warn" are also plain words
    spelt = sorted(
        f"{name}:{node.lineno} {node.value!r}"
        for name, tree in TREES.items()
        if name != STATUS_MODULE
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in statuses
    )
    assert spelt == []


def test_few_values_are_typed_any() -> None:
    annotations = []
    for tree in TREES.values():
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                args = node.args
                every = [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
                annotations += [a.annotation for a in every if a is not None and a.annotation]
                annotations += [node.returns] if node.returns else []
            elif isinstance(node, ast.AnnAssign):
                annotations.append(node.annotation)
    bare_any = sum(1 for a in annotations if ast.unparse(a) == "Any")
    assert bare_any <= MAX_ANY_ANNOTATIONS
