"""The client package stays free of Django, so it can be used and tested on its own."""

import subprocess
import sys


def test_the_client_package_does_not_import_django():
    code = (
        "import sys, integrations.poweroffice, integrations.poweroffice.client;"
        "leaked = sorted(m for m in sys.modules if m == 'django' or m.startswith('django.'));"
        "print(leaked); sys.exit(1 if leaked else 0)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 0, result.stdout + result.stderr
