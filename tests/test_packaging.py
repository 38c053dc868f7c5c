"""Each library's pyproject.toml declares what its code imports, so each installed alone works:
django-ms-token (libs/ms_token) and service-kit (libs/service_kit)."""
import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

LIBS = Path(__file__).resolve().parents[1] / "libs"
# Which extra a module may lean on at import time (beyond the required dependencies), by its
# path inside the package: the DRF glue needs the ``drf`` extra, test support ``testing``.
EXTRAS_BY_PATH = {
    "ms_token": {
        "contrib/rest_framework/schema.py": {"drf", "spectacular"},
        "contrib/rest_framework/": {"drf"},
        "fixtures.py": {"testing"},
    },
    "service_kit": {"contract_tests.py": {"testing"}, "testing.py": {"testing"}},
}
DOTTED = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)+")


def _name(requirement: str) -> str:
    return re.sub(r"[-_.]+", "-", re.match(r"[A-Za-z0-9_.-]+", requirement).group()).lower()


def _declared(package: str) -> tuple[set[str], dict[str, set[str]]]:
    project = tomllib.loads((LIBS / package / "pyproject.toml").read_text())["project"]
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
    third_party = modules - set(sys.stdlib_module_names) - {"__future__"}
    missing = {module for module in third_party if module not in installed}
    assert not missing, f"imported but not installed at all: {missing}"
    return {_name(installed[module][0]) for module in third_party}


def _own_name(package: str) -> str:
    return _name(tomllib.loads((LIBS / package / "pyproject.toml").read_text())["project"]["name"])


def _settings_modules(value) -> set[str]:
    """First components of the dotted paths the shared settings name (apps, middleware, ...)."""
    if isinstance(value, dict):
        return set().union(*map(_settings_modules, value.values()))
    if isinstance(value, (list, tuple)):
        return set().union(*map(_settings_modules, value))
    if isinstance(value, str) and DOTTED.fullmatch(value):
        return {value.split(".")[0]} & set(packages_distributions())
    return set()


@pytest.mark.parametrize("package", ["ms_token", "service_kit"])
def test_every_import_time_dependency_is_declared(package):
    required, extras = _declared(package)
    source = LIBS / package / "src" / package
    modules = sorted(source.rglob("*.py"))
    assert len(modules) > 5, f"no modules found under {source}"
    undeclared = {}
    for path in modules:
        visitor = _ImportTimeImports()
        visitor.visit(ast.parse(path.read_text(), str(path)))
        inside = path.relative_to(source).as_posix()
        allowed = set(required) | {_own_name(package)}
        for prefix, names in EXTRAS_BY_PATH[package].items():
            if inside.startswith(prefix):
                allowed |= set().union(*(extras.get(name, set()) for name in names))
                break
        if missing := _distributions(visitor.modules) - allowed:
            undeclared[inside] = missing
    assert not undeclared, f"imported at import time, not declared in {package}'s pyproject.toml: {undeclared}"


def test_ms_token_needs_nothing_of_the_shop():
    required, extras = _declared("ms_token")
    assert not {"service-kit", "shopdev"} & (required | set().union(*extras.values()))


def test_the_packages_the_shared_settings_name_are_declared(tmp_path):
    from service_kit.conf import common_settings

    required, extras = _declared("service_kit")
    required |= set().union(*(_declared("ms_token")[1].get(extra, set()) for extra in ("drf",)))
    required |= {"django-ms-token", "service-kit"}
    settings = common_settings(service="user", base_dir=tmp_path)
    apps = {app.split(".")[0] for app in settings["INSTALLED_APPS"]}  # "drf_spectacular_sidecar"
    named = _distributions(_settings_modules(settings) | apps)
    assert not named - required, f"common_settings names {named - required}, not in service_kit's pyproject.toml"
