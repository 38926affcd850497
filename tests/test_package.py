"""The library's shape: no two modules import each other, directly or round a circle (DESIGN.md)."""
import ast
import pathlib

import gan_utils

PACKAGE = pathlib.Path(gan_utils.__file__).parent


def _module_name(path: pathlib.Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts) or "gan_utils"


def _imports(path: pathlib.Path, modules: set[str]) -> set[str]:
    """The gan_utils modules a file imports anywhere in it (at the top or inside a function)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("gan_utils"):
            base = node.module.removeprefix("gan_utils").lstrip(".")
            for alias in node.names:  # `from gan_utils import train` names a module; `from x import f` does not
                candidate = f"{base}.{alias.name}" if base else alias.name
                found.add(candidate if candidate in modules else base)
        elif isinstance(node, ast.Import):
            found.update(a.name.removeprefix("gan_utils.") for a in node.names if a.name.startswith("gan_utils."))
    return {name for name in found if name in modules}


def import_graph() -> dict[str, set[str]]:
    """Each gan_utils module and the gan_utils modules it imports."""
    paths = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {name: _imports(path, set(paths)) - {name} for name, path in paths.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One circle of imports in `graph` (its modules in order, the first repeated at the end), or []."""
    state: dict[str, str] = {}

    def visit(node, path):
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt, path + [nxt])):
                return cycle
        state[node] = "done"
        return []

    for start in sorted(graph):
        if start not in state and (cycle := visit(start, [start])):
            return cycle
    return []


def test_find_cycle_finds_a_circle_and_only_a_circle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) == []


def test_the_import_graph_reads_imports_inside_functions_too():
    graph = import_graph()
    assert "train" in graph["recipes"] or "recipes" in graph["train"]
    assert "data" in graph["recipes"]  # recipes.default_recipe imports gan_utils.data inside the function


def test_no_two_modules_import_each_other():
    assert find_cycle(import_graph()) == []
