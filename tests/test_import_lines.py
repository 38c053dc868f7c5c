"""The import lines of .importlinter (checked by `make test`, scripts/run_tests.py) would catch a
crossing: a copy of ms_token that imports the shop's platform, first on the path, breaks them."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
PROJECTS = [REPO / "user_project", REPO / "product_project", REPO / "billing_project"]


def lint_imports(*first_on_path: Path) -> subprocess.CompletedProcess:
    path = os.pathsep.join(str(p) for p in [*first_on_path, *PROJECTS])
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=REPO, env={**os.environ, "PYTHONPATH": path},
        capture_output=True, text=True, timeout=300,
    )


def test_a_library_importing_the_shop_breaks_the_contract(tmp_path):
    copy = tmp_path / "ms_token"
    shutil.copytree(REPO / "libs" / "ms_token" / "src" / "ms_token", copy)
    with (copy / "tokens.py").open("a") as module:
        module.write("\nfrom service_kit import conf  # crossing the line\n")
    result = lint_imports(tmp_path)
    assert result.returncode != 0
    assert "ms_token imports nothing of the shop BROKEN" in result.stdout
