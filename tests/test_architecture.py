"""The package's layout holds: rooms import only rooms below them, no module imports another in a
circle (lazy imports inside functions count too), the core never imports a front-end, and every
module path the code names in a string (entry points, `python -m` targets, forked targets,
kernel-side imports) can be imported."""
from __future__ import annotations

import ast
import importlib
import re
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "autograder"
# Rooms from the ground up: a room may import its own modules and the rooms before it.
ROOMS = ("course", "data", "sandbox", "checks", "judging", "preprocessors", "authoring", "comments",
         "reporting", "grading", "integrations", "demo", "cli")
# Old public paths, kept as thin re-exports for instructors' files and deployed workflows.
SHIMS = ("autograder.config", "autograder.nbgrader_setup", "autograder.seeding", "autograder.gradescope",
         "autograder.classroom", "autograder.grading_tests")
MAX_LINES = 300


def module_name(path: Path) -> str:
    name = ".".join(path.relative_to(REPO).with_suffix("").parts)
    return name.removesuffix(".__init__")


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imported_modules(name: str) -> set[str]:
    """Kit modules that `name` imports anywhere in its body (top level or inside functions)."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            for candidate in [module] + [f"{module}.{alias.name}" for alias in node.names]:
                if candidate in MODULES and candidate != name and candidate != "autograder":
                    found.add(candidate)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in MODULES and alias.name != name)
    return found


GRAPH = {name: imported_modules(name) for name in MODULES}


def room_of(name: str) -> str | None:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in ROOMS else None


def is_shim(name: str) -> bool:
    return any(name == shim or name.startswith(shim + ".") for shim in SHIMS)


def test_every_module_lives_in_a_room_or_is_an_old_path():
    homeless = [n for n in MODULES if n != "autograder" and room_of(n) is None and not is_shim(n)]
    assert not homeless, f"modules outside the rooms {ROOMS}: {homeless}"


def test_rooms_import_only_rooms_below_them():
    upward = []
    for name, imports in GRAPH.items():
        if room_of(name) is None:
            continue
        for target in imports:
            if room_of(target) and ROOMS.index(room_of(target)) > ROOMS.index(room_of(name)):
                upward.append(f"{name} -> {target}")
    assert not upward, "imports from a higher room:\n" + "\n".join(sorted(upward))


def test_nothing_in_the_kit_imports_an_old_path():
    users = [f"{n} -> {t}" for n, targets in GRAPH.items() if not is_shim(n) for t in targets if is_shim(t)]
    assert not users, users


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index, low, on_stack, stack, found, counter = {}, {}, set(), [], [], [0]

    def visit(root):
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter[0]
                    counter[0] += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))

    for name in sorted(graph):
        if name not in index:
            visit(name)
    return found


def test_no_import_circles():
    # a package's __init__ that re-exports its own modules is not a circle of jobs
    graph = {n: {t for t in ts if not (MODULES[t].name == "__init__.py" and n.startswith(t + "."))}
             for n, ts in GRAPH.items()}
    assert not circles(graph), circles(graph)


def test_the_circle_finder_finds_a_circle():
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_module_is_over_the_size_limit():
    big = {n: len(p.read_text().splitlines()) for n, p in MODULES.items()}
    assert not {n: size for n, size in big.items() if size > MAX_LINES}, "split these by job"


# Module paths written in strings: `python -m X`, "X:function" targets, __import__("X"), entry points.
NAMED = re.compile(r"""(?:-m["'],\s*["']|-m\s+|__import__\(["']|["'])(autograder(?:\.[a-z_]+)+)(?::([a-z_]+))?""")


FILE_NAMES = (".zip", ".json", ".py")   # "autograder.zip" is a file, not a module


def named_in_strings() -> set[tuple[str, str | None]]:
    found = set()
    texts = [p.read_text() for p in MODULES.values()] + [(REPO / "nbgrader_config.py").read_text()]
    for text in texts:
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                for match in NAMED.finditer(f'"{node.value}'):
                    if not match.group(1).endswith(FILE_NAMES):
                        found.add((match.group(1), match.group(2)))
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    for group in [{"scripts": project["scripts"]}, *[project["entry-points"]]]:
        for entries in group.values():
            for target in entries.values():
                module, _, attribute = target.partition(":")
                found.add((module, attribute or None))
    return found


NAMED_PATHS = sorted(named_in_strings(), key=str)


def test_strings_name_module_paths():
    assert len(NAMED_PATHS) >= 8, NAMED_PATHS   # the finder works: entry points and -m targets at least


@pytest.mark.parametrize("module, attribute", NAMED_PATHS, ids=[f"{m}:{a}" if a else m for m, a in NAMED_PATHS])
def test_a_module_path_named_in_a_string_imports(module, attribute):
    try:
        imported = importlib.import_module(module)
    except ModuleNotFoundError:
        # "autograder.checks.hidden_accuracy(" and similar name a function of a package
        parent, _, leaf = module.rpartition(".")
        assert hasattr(importlib.import_module(parent), leaf), module
        return
    if attribute:
        assert hasattr(imported, attribute), f"{module}:{attribute}"
