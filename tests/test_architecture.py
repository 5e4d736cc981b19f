"""The house rules of docs/architecture.md, kept true by the import graph.

Every project module (migrations and tests aside) is parsed, not imported; its module-level
imports (not those inside functions, nor under ``if TYPE_CHECKING:``) are the edges of a graph of
project modules. The tests fail on:

- an import circle between project modules;
- ``kravia_web`` (the ground floor) importing an app, outside ``kravia_web/urls.py``, its
  settings and the Celery app (here every import counts, also one inside a function);
- a top-level module of an app named ``<thing>_<layer>.py`` or ``<layer>_<thing>.py``
  (``admin_letters.py``, ``dashboard_views.py``): the thing gets a package instead;
- a module over 800 lines;
- a task a service queues by name (``enqueue("pkg.module.task")``) that does not exist.

The allowlists below hold what other work on ``main`` removes; each entry says why (they are
empty now). The map's table names every package of the tree and only packages that exist.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = (
    "kravia_web",
    "creditors",
    "integrations",
    "collections_cases",
    "pogo_sandbox",
    "api_access",
)
APPS = tuple(p for p in PACKAGES if p != "kravia_web")
MAX_LINES = 800
LAYERS = {
    "admin",
    "api",
    "filters",
    "forms",
    "lists",
    "models",
    "receivers",
    "selectors",
    "serializers",
    "services",
    "signals",
    "tasks",
    "urls",
    "views",
}
#: The modules of kravia_web that may import the apps.
KRAVIA_WEB_MAY_IMPORT_APPS = ("kravia_web.urls", "kravia_web.settings", "kravia_web.celery")

# --- allowlists (to be emptied) ----------------------------------------------------------------

#: Circles that close only through an import inside a function (the module-level graph has
#: none), as the sorted tuple of their modules.
ALLOWED_LAZY_CYCLES: set[tuple[str, ...]] = set()
#: kravia_web modules that still import an app.
KRAVIA_WEB_OFFENDERS: set[str] = set()  # issue 18 point 4: the API plumbing is in api_access
#: Top-level modules still named <thing>_<layer>.py.
LAYER_NAMED: set[str] = set()
#: Modules still over MAX_LINES.
TOO_LONG: set[str] = set()  # issue 18 point 8: settlements/services.py was split on main


# --- the graph ----------------------------------------------------------------------------------


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def project_modules(root: Path = ROOT, packages=PACKAGES) -> dict[str, Path]:
    modules = {}
    for package in packages:
        for path in (root / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            modules[module_name(path, root)] = path
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    return "TYPE_CHECKING" in ast.unparse(test)


def module_level_imports(tree: ast.Module) -> Iterator[ast.Import | ast.ImportFrom]:
    """The imports run when the module is imported: at the top level, also inside a top-level
    ``if``/``try`` (not ``if TYPE_CHECKING:``), never inside a function or a class."""

    def walk(body):
        for node in body:
            if isinstance(node, ast.Import | ast.ImportFrom):
                yield node
            elif isinstance(node, ast.If):
                if not _is_type_checking(node.test):
                    yield from walk(node.body)
                yield from walk(node.orelse)
            elif isinstance(node, ast.Try):
                for block in (node.body, node.orelse, node.finalbody):
                    yield from walk(block)
                for handler in node.handlers:
                    yield from walk(handler.body)

    yield from walk(tree.body)


def all_imports(tree: ast.Module) -> Iterator[ast.Import | ast.ImportFrom]:
    yield from (n for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom))


def imported_modules(
    node: ast.Import | ast.ImportFrom, importer: str, is_package: bool, modules
) -> set[str]:
    """The project modules ``node`` imports: ``from pkg import sub`` is an edge to the module
    ``pkg.sub``; ``from pkg.mod import name`` to ``pkg.mod``."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:
            package = importer.split(".") if is_package else importer.split(".")[:-1]
            package = package[: len(package) - (node.level - 1)]
            base = ".".join(package + ([base] if base else []))
        names = [
            f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
            for alias in node.names
        ]
    found = set()
    for name in names:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        if name and name != importer:
            found.add(name)
    return found


def import_graph(modules: dict[str, Path], *, every_import: bool = False) -> dict[str, set[str]]:
    graph = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        nodes = all_imports(tree) if every_import else module_level_imports(tree)
        is_package = path.name == "__init__.py"
        edges = set()
        for node in nodes:
            edges |= imported_modules(node, name, is_package, modules)
        graph[name] = edges
    return graph


def cycles(graph: dict[str, set[str]]) -> list[tuple[str, ...]]:
    """Every import circle, as the sorted modules of a strongly connected component (Tarjan,
    iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in graph:
                    continue
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1 or node in graph[node]:
                        found.append(tuple(sorted(component)))
    return found


def layer_named(module: str) -> bool:
    stem = module.rpartition(".")[2]
    first, _, rest = stem.partition("_")
    last = stem.rpartition("_")[2]
    return bool(rest) and (first in LAYERS or last in LAYERS)


@pytest.fixture(scope="module")
def modules():
    return project_modules()


# --- the rules ----------------------------------------------------------------------------------


def test_no_import_circle(modules):
    found = cycles(import_graph(modules))
    assert found == [], "import circles: " + "; ".join(" ↔ ".join(c) for c in found)


def test_no_circle_through_imports_inside_functions_either(modules):
    """A lazy import may put off a circle, not hide one: tasks import services, services queue
    tasks by name (``kravia_web.enqueue``)."""
    found = set(cycles(import_graph(modules, every_import=True)))
    new = found - ALLOWED_LAZY_CYCLES
    assert new == set(), "circles: " + "; ".join(" ↔ ".join(c) for c in sorted(new))
    assert ALLOWED_LAZY_CYCLES - found == set(), "gone: empty the allowlist"


def test_kravia_web_imports_no_app_outside_urls_settings_and_celery(modules):
    graph = import_graph(modules, every_import=True)
    offenders = {
        name: sorted(target for target in targets if target.split(".")[0] in APPS)
        for name, targets in graph.items()
        if name.split(".")[0] == "kravia_web"
        and not any(
            name == allowed or name.startswith(allowed + ".")
            for allowed in KRAVIA_WEB_MAY_IMPORT_APPS
        )
    }
    offenders = {name: apps for name, apps in offenders.items() if apps}
    assert set(offenders) - KRAVIA_WEB_OFFENDERS == set(), offenders


def test_no_top_level_module_of_an_app_is_named_thing_layer(modules):
    top_level = {
        name
        for name, path in modules.items()
        if name.count(".") == 1 and name.split(".")[0] in PACKAGES and path.name != "__init__.py"
    }
    named = {name for name in top_level if layer_named(name)}
    assert named - LAYER_NAMED == set(), sorted(named - LAYER_NAMED)


def test_no_module_is_over_800_lines(modules):
    long = {
        name: n
        for name, path in modules.items()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert set(long) - TOO_LONG == set(), long


def test_every_task_queued_by_name_exists(modules):
    """``enqueue("a.b.task")`` imports the task only when called: a moved task must fail here,
    not in production."""
    from django.utils.module_loading import import_string

    named = set()
    for path in modules.values():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", getattr(node.func, "attr", "")).startswith("enqueue")
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                named.add(node.args[0].value)
    assert named, "no enqueue(...) call found: the test no longer sees them"
    for path in sorted(named):
        assert hasattr(import_string(path), "delay"), path


# --- the checks can fail ------------------------------------------------------------------------


def _plant(tmp_path: Path, files: dict[str, str]) -> dict[str, Path]:
    for relative, text in files.items():
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return project_modules(tmp_path, ("pkg",))


def test_the_cycle_finder_finds_a_planted_circle(tmp_path):
    modules = _plant(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "from pkg.b import x\n",
            "pkg/b.py": "from pkg import c\n",
            "pkg/c.py": "import pkg.a\n",
            "pkg/d.py": "from pkg.a import y\n",
        },
    )
    assert cycles(import_graph(modules)) == [("pkg.a", "pkg.b", "pkg.c")]


def test_imports_inside_functions_and_type_checking_are_no_edges(tmp_path):
    modules = _plant(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "from pkg import b\n",
            "pkg/b.py": (
                "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n    from pkg import a\n"
                "def later():\n    from pkg.a import x\n"
            ),
            "pkg/c.py": "try:\n    from .d import z\nexcept ImportError:\n    pass\n",
            "pkg/d.py": "from . import c\n",
        },
    )
    graph = import_graph(modules)
    assert graph["pkg.b"] == set()
    assert cycles(graph) == [("pkg.c", "pkg.d")]  # relative imports and try blocks count
    assert ("pkg.a", "pkg.b") in cycles(import_graph(modules, every_import=True))


@pytest.mark.parametrize(
    ("module", "flagged"),
    [
        ("collections_cases.admin_letters", True),
        ("collections_cases.dashboard_views", True),
        ("collections_cases.page_selectors", True),
        ("creditors.team_services", True),
        ("collections_cases.rules", False),
        ("collections_cases.banking_days", False),
        ("kravia_web.login_throttle", False),
        ("creditors.views", False),
    ],
)
def test_the_layer_name_check(module, flagged):
    assert layer_named(module) is flagged


# --- the map matches the tree -------------------------------------------------------------------

#: Django's own places (commands, template tags) and the model hub are named in the prose.
NOT_SUBDOMAINS = {"management", "templatetags", "models", "migrations"}


def map_rows(text: str) -> list[str]:
    """The first cell of each row of the map's table in docs/architecture.md."""
    section = text.split("## The map", 1)[1].split("\n## ", 1)[0]
    return [
        line.split("|")[1].strip()
        for line in section.splitlines()
        if line.startswith("| `") and line.count("|") >= 4
    ]


def named_packages(cells: list[str]) -> set[str]:
    """``collections_cases/payments/``, ``plans/`` … → full paths (a bare name continues the
    first path of its cell)."""
    named = set()
    for cell in cells:
        parts = [p.strip().strip("`") for p in cell.split(",")]
        base = None
        for part in parts:
            for word in part.split():
                word = word.strip("`")
                if not word.endswith("/"):
                    continue
                if "/" in word[:-1]:
                    base = word[: word[:-1].rindex("/") + 1]
                    named.add(word.rstrip("/"))
                elif base is not None:
                    named.add(base + word.rstrip("/"))
                else:
                    named.add(word.rstrip("/"))
    return named


def subdomain_packages(root: Path) -> set[str]:
    found = {p for p in APPS + ("kravia_web",) if (root / p / "__init__.py").exists()}
    for child in (root / "collections_cases").iterdir():
        if (child / "__init__.py").exists() and child.name not in NOT_SUBDOMAINS:
            found.add(f"collections_cases/{child.name}")
    return found


def test_the_map_names_every_package_and_only_packages_that_exist():
    named = named_packages(map_rows((ROOT / "docs" / "architecture.md").read_text("utf-8")))
    tree = subdomain_packages(ROOT)
    left_out = {p for p in tree if not any(n == p or n.startswith(p + "/") for n in named)}
    assert left_out == set(), "packages missing from the map in docs/architecture.md"
    missing = {p for p in named if not (ROOT / p).is_dir()}
    assert missing == set(), "the map names packages that do not exist"


def test_the_map_check_sees_a_package_left_out(tmp_path):
    (tmp_path / "collections_cases" / "newthing").mkdir(parents=True)
    (tmp_path / "collections_cases" / "newthing" / "__init__.py").write_text("")
    (tmp_path / "collections_cases" / "__init__.py").write_text("")
    table = (
        "## The map\n\n| Package | Owns | By |\n|---|---|---|\n| `collections_cases/` | x | y |\n"
    )
    named = named_packages(map_rows(table))
    assert subdomain_packages(tmp_path) - named == {"collections_cases/newthing"}
    assert map_rows(table) == ["`collections_cases/`"]
    cells = ["`collections_cases/payments/`, `plans/`, `settlements/`"]
    assert named_packages(cells) == {
        "collections_cases/payments",
        "collections_cases/plans",
        "collections_cases/settlements",
    }
