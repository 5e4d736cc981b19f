"""``kravia_web`` is the ground floor: shared plumbing every app may use. It imports no app
(``creditors``, ``collections_cases``, ``integrations``, ``api_access``, ``pogo_sandbox``, or
any later one) except in the three modules that wire the apps together: ``urls.py``,
``settings/`` and ``celery.py``. Otherwise a change to an app could break the floor under it
(and the API's plumbing, which needs keys and creditors, lives in ``api_access.api``).

The check reads the source (AST), so it sees imports at module level and inside functions,
classes, ``if TYPE_CHECKING:`` and ``try:`` blocks, and imports by name through
``importlib.import_module``, ``import_string``, ``__import__`` and ``include``."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FLOOR = "kravia_web"

#: Relative to the ``kravia_web`` package; a directory entry covers everything under it.
ALLOWED = ("urls.py", "celery.py", "settings/")

#: The apps known today; :func:`project_apps` adds any new one (a top-level package with an
#: ``apps.py``), so a new app is covered without editing this test.
KNOWN_APPS = frozenset(
    {"creditors", "collections_cases", "integrations", "api_access", "pogo_sandbox"}
)

#: Calls that import the module named by their first (string) argument.
IMPORTING_CALLS = frozenset({"import_module", "import_string", "__import__", "include"})


def project_apps(root: Path = ROOT) -> frozenset[str]:
    found = {
        path.parent.name
        for path in root.glob("*/apps.py")
        if path.parent.name != FLOOR and (path.parent / "__init__.py").exists()
    }
    return KNOWN_APPS | found


def _call_name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def imported_names(tree: ast.AST) -> list[tuple[int, str]]:
    """``(line, dotted module name)`` for every absolute import anywhere in ``tree``.

    Relative imports (``from . import x``) stay inside ``kravia_web`` (a relative import cannot
    climb above the top-level package), so they are not listed."""
    names: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0 and node.module:
                names.append((node.lineno, node.module))
        elif isinstance(node, ast.Call) and _call_name(node.func) in IMPORTING_CALLS:
            if node.args and isinstance(node.args[0], ast.Constant):
                value = node.args[0].value
                if isinstance(value, str):
                    names.append((node.lineno, value))
    return names


def is_allowed(relative: str) -> bool:
    return any(
        relative.startswith(entry) if entry.endswith("/") else relative == entry
        for entry in ALLOWED
    )


def app_imports(source: str, filename: str, apps: frozenset[str]) -> list[str]:
    """``"file:line imports module"`` for each import of an app in ``source``."""
    tree = ast.parse(source, filename=filename)
    return [
        f"{filename}:{line} imports {name}"
        for line, name in imported_names(tree)
        if name.split(".")[0] in apps
    ]


def floor_violations(root: Path = ROOT) -> list[str]:
    """Every import of an app by a ``kravia_web`` module outside :data:`ALLOWED`."""
    apps = project_apps(root)
    package = root / FLOOR
    found: list[str] = []
    for path in sorted(package.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        relative = path.relative_to(package).as_posix()
        if is_allowed(relative):
            continue
        found.extend(app_imports(path.read_text(encoding="utf-8"), f"{FLOOR}/{relative}", apps))
    return found


def test_kravia_web_imports_no_app_outside_urls_settings_and_celery():
    assert floor_violations() == [], (
        "kravia_web is the ground floor and may import an app only in urls.py, settings/ and "
        "celery.py; move the code into the app that owns the concept (the API's plumbing "
        "lives in api_access.api)."
    )


def test_the_scan_reads_every_kravia_web_module_and_knows_every_app():
    """The check is only as good as what it reads: all of ``kravia_web`` (nested packages
    too), and every app of the project."""
    apps = project_apps()
    assert KNOWN_APPS <= apps
    assert FLOOR not in apps
    modules = {path.relative_to(ROOT / FLOOR).as_posix() for path in (ROOT / FLOOR).rglob("*.py")}
    assert {"middleware.py", "errors.py", "urls.py", "settings/base.py"} <= modules
    assert any(name.startswith("management/commands/") for name in modules)
    assert not (ROOT / FLOOR / "api").exists(), "the API's plumbing moved to api_access/api/"


def test_the_real_url_root_would_be_caught_if_it_were_not_allowed():
    """``kravia_web/urls.py`` does wire in the apps (by ``include``): the check finds that in
    the real file, so it would find the same anywhere else in ``kravia_web``."""
    source = (ROOT / FLOOR / "urls.py").read_text(encoding="utf-8")
    found = app_imports(source, "kravia_web/urls.py", project_apps())
    assert any("api_access.api.urls" in line for line in found)
    assert any("collections_cases" in line for line in found)


PLANTED = {
    "module level import": "import creditors.models\n",
    "module level from-import": "from collections_cases.models import CollectionCase\n",
    "the API plumbing moved back": "from api_access.api.views import ApiView\n",
    "inside a function": (
        "def push():\n    from integrations.services.outbox import enqueue\n    return enqueue\n"
    ),
    "inside a method": (
        "class Page:\n    def get(self):\n        import pogo_sandbox.views as v\n        return v\n"
    ),
    "under TYPE_CHECKING": (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from api_access.models import ApiKey\n"
    ),
    "inside try": "try:\n    import creditors\nexcept ImportError:\n    pass\n",
    "import_module": (
        "import importlib\n"
        "def load():\n    return importlib.import_module('collections_cases.services')\n"
    ),
    "import_string": (
        "from django.utils.module_loading import import_string\n"
        "View = import_string('api_access.api.views.ApiView')\n"
    ),
    "__import__": "mod = __import__('integrations')\n",
    "several names, one an app": "import json, creditors.selectors\n",
}


@pytest.mark.parametrize("source", PLANTED.values(), ids=PLANTED.keys())
def test_a_planted_app_import_is_caught(source):
    found = app_imports(source, "kravia_web/planted.py", project_apps())
    assert len(found) == 1, found
    assert found[0].startswith("kravia_web/planted.py:")


NOT_APPS = {
    "the floor itself": "import kravia_web.money\nfrom kravia_web.errors import ApplicationError\n",
    "relative import": "from . import money\nfrom .errors import ApplicationError\n",
    "stdlib with a similar name": "import collections\nfrom collections import abc\n",
    "a name that only starts like an app": "import creditorsx\nimport integrations_old\n",
    "third party": "from django.conf import settings\nfrom rest_framework import views\n",
    "a dynamic name": "import importlib\ndef load(name):\n    return importlib.import_module(name)\n",
}


@pytest.mark.parametrize("source", NOT_APPS.values(), ids=NOT_APPS.keys())
def test_imports_of_no_app_are_not_reported(source):
    assert app_imports(source, "kravia_web/clean.py", project_apps()) == []


def test_a_planted_file_fails_the_scan_but_the_allowed_modules_do_not(tmp_path):
    """The whole scan on a small tree: an app import in an allowed module passes, the same
    import in any other module (nested ones too) is reported with file and line."""
    floor = tmp_path / FLOOR
    (floor / "settings").mkdir(parents=True)
    (floor / "templatetags").mkdir()
    app = tmp_path / "newapp"
    app.mkdir()
    (app / "__init__.py").write_text("")
    (app / "apps.py").write_text("")
    (floor / "__init__.py").write_text("")
    (floor / "urls.py").write_text("from creditors import views\n")
    (floor / "celery.py").write_text("import integrations.tasks\n")
    (floor / "settings" / "base.py").write_text("from api_access import api\n")
    (floor / "money.py").write_text("from decimal import Decimal\n")
    assert floor_violations(tmp_path) == []

    (floor / "templatetags" / "tags.py").write_text(
        "def tag():\n    from newapp.models import Thing\n    return Thing\n"
    )
    (floor / "money.py").write_text("from decimal import Decimal\nimport pogo_sandbox\n")
    assert floor_violations(tmp_path) == [
        "kravia_web/money.py:2 imports pogo_sandbox",
        "kravia_web/templatetags/tags.py:2 imports newapp.models",
    ]
