"""The monorepo's rules that no single project can check for itself."""
import ast
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PROJECTS = {"user_project": "user", "product_project": "product", "billing_project": "billing"}
PROJECT_PACKAGES = {
    "user_project": {"user_site", "accounts"},
    "product_project": {"product_site", "catalog"},
    "billing_project": {"billing_site", "bills"},
}


def _imported_top_levels(directory: Path) -> set[str]:
    names = set()
    for path in directory.rglob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
    return names


def test_no_project_imports_another_project():
    for project, own in PROJECT_PACKAGES.items():
        foreign = set().union(*(p for name, p in PROJECT_PACKAGES.items() if name != project))
        assert not (_imported_top_levels(REPO / project) & foreign), project


def test_libs_import_no_project():
    every_project_package = set().union(*PROJECT_PACKAGES.values())
    assert not (_imported_top_levels(REPO / "libs" / "service_kit") & every_project_package)
