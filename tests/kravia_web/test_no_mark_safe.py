"""HTML is made by templates, which escape what they show (issue 18): no product module marks
a string of its own making as safe. Template tags and filters are the one place where a
``mark_safe`` belongs; anything else needs a reason in ``ALLOWED``."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = [
    "api_access",
    "collections_cases",
    "creditors",
    "integrations",
    "kravia_web",
    "pogo_sandbox",
]
#: Calls that turn a ``str`` into trusted HTML.
TRUSTING = re.compile(r"\b(mark_safe|SafeString|SafeText|Markup)\(")
#: (path, call) → why it is safe.
ALLOWED = {
    (
        "collections_cases/cases/views.py",
        "Markup(",
    ): "case_rows_html and _case_page_html: the Jinja2 engine's autoescaped output, passed on "
    "as HTML unchanged",
}


def _offenders(root: Path = ROOT) -> list[str]:
    found = []
    for package in PRODUCT:
        for path in sorted((root / package).rglob("*.py")):
            relative = path.relative_to(root).as_posix()
            if "/migrations/" in relative or "/templatetags/" in relative:
                continue
            for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                for match in TRUSTING.finditer(line):
                    if (relative, match.group(0)) not in ALLOWED:
                        found.append(f"{relative}:{lineno}: {line.strip()}")
    return found


def test_no_product_module_marks_its_own_strings_safe():
    assert _offenders() == []


def test_the_check_finds_a_mark_safe_but_not_in_template_tags(tmp_path):
    (tmp_path / "kravia_web" / "templatetags").mkdir(parents=True)
    code = "from django.utils.safestring import mark_safe\nX = mark_safe('<b>')\n"
    (tmp_path / "kravia_web" / "planted.py").write_text(code)
    (tmp_path / "kravia_web" / "templatetags" / "tags.py").write_text(code)
    assert _offenders(tmp_path) == ["kravia_web/planted.py:2: X = mark_safe('<b>')"]
