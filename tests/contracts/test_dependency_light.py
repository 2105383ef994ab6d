"""contracts must import with the standard library alone (numpy-1.23 model images use it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_contracts_imports_only_the_standard_library() -> None:
    code = (
        "import sys, courtside_contracts, courtside_contracts.ws, courtside_contracts.streams, courtside_contracts.subjects\n"
        "third = sorted(m.split('.')[0] for m in sys.modules if m.split('.')[0] not in sys.stdlib_module_names"
        " and m != '__main__' and not m.startswith('courtside_contracts'))\n"
        "print(','.join(third))"
    )
    out = subprocess.run([sys.executable, "-S", "-c", code], cwd=REPO / "contracts", capture_output=True, text=True,
                         check=True, env={"PYTHONPATH": str(REPO / "contracts")})
    assert out.stdout.strip() == ""
