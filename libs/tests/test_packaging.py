"""libs/pyproject.toml declares what service_kit needs, so service-kit installed alone works."""
import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

from service_kit.conf import common_settings

LIBS = Path(__file__).resolve().parents[1]
# Imported only by test suites; their needs are the ``testing`` extra.
TEST_SUPPORT = {"contract_tests.py", "testing.py"}
DOTTED = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)+")


def _name(requirement: str) -> str:
    return re.sub(r"[-_.]+", "-", re.match(r"[A-Za-z0-9_.-]+", requirement).group()).lower()


def _declared() -> tuple[set[str], dict[str, set[str]]]:
    project = tomllib.loads((LIBS / "pyproject.toml").read_text())["project"]
    extras = {extra: {_name(r) for r in reqs} for extra, reqs in project.get("optional-dependencies", {}).items()}
    return {_name(r) for r in project["dependencies"]}, extras


class _ImportTimeImports(ast.NodeVisitor):
    """Top-level modules imported when the file is imported (not inside functions)."""

    def __init__(self) -> None:
        self.modules: set[str] = set()

    def visit_FunctionDef(self, node) -> None:  # runs later, if ever: an optional path
        pass

    visit_AsyncFunctionDef = visit_Lambda = visit_FunctionDef

    def visit_If(self, node: ast.If) -> None:
        if not (isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"):
            self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        self.modules.update(alias.name.split(".")[0] for alias in node.names)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level == 0 and node.module:
            self.modules.add(node.module.split(".")[0])


def _distributions(modules: set[str]) -> set[str]:
    installed = packages_distributions()
    third_party = modules - set(sys.stdlib_module_names) - {"service_kit", "__future__"}
    missing = {module for module in third_party if module not in installed}
    assert not missing, f"imported but not installed at all: {missing}"
    return {_name(installed[module][0]) for module in third_party}


def _settings_modules(value) -> set[str]:
    """First components of the dotted paths the shared settings name (apps, middleware, ...)."""
    if isinstance(value, dict):
        return set().union(*map(_settings_modules, value.values()))
    if isinstance(value, (list, tuple)):
        return set().union(*map(_settings_modules, value))
    if isinstance(value, str) and DOTTED.fullmatch(value):
        return {value.split(".")[0]} & set(packages_distributions())
    return set()


def test_every_import_time_dependency_of_service_kit_is_declared():
    required, extras = _declared()
    undeclared = {}
    for path in sorted((LIBS / "service_kit").rglob("*.py")):
        visitor = _ImportTimeImports()
        visitor.visit(ast.parse(path.read_text(), str(path)))
        allowed = required | extras.get("testing", set()) if path.name in TEST_SUPPORT else required
        if missing := _distributions(visitor.modules) - allowed:
            undeclared[str(path.relative_to(LIBS))] = missing
    assert not undeclared, f"imported at import time, not in libs/pyproject.toml: {undeclared}"


def test_the_packages_the_shared_settings_name_are_declared(tmp_path):
    required, _ = _declared()
    settings = common_settings(service="user", base_dir=tmp_path)
    apps = {app.split(".")[0] for app in settings["INSTALLED_APPS"]}  # "drf_spectacular_sidecar"
    named = _distributions(_settings_modules(settings) | apps)
    assert not named - required, f"common_settings names {named - required}, not in libs/pyproject.toml"
