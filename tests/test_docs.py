"""The repository documents its own outside: every operation of every service's OpenAPI schema
is in docs/api.md, and every relative link of every Markdown file resolves inside the repo."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

REPO = Path(__file__).resolve().parents[1]
API_DOC = REPO / "docs" / "api.md"
SERVICES = ("user", "product", "billing")
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
PATH_PARAMETER = re.compile(r"\{[^}]*\}")


def openapi_schema(service: str, tmp_path: Path) -> dict:
    """The service's schema as `GET /api/schema/` serves it: drf-spectacular, in the project."""
    env = {name: value for name, value in os.environ.items() if not name.endswith("DATABASE_URL")}
    env[f"{service.upper()}_DATABASE_URL"] = f"sqlite:///{tmp_path / service}.sqlite3"
    result = subprocess.run(
        [sys.executable, "manage.py", "spectacular", "--format", "openapi-json"],
        cwd=REPO / f"{service}_project", env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def operations(schema: dict) -> list[str]:
    return [f"{method.upper()} {path}" for path, item in schema["paths"].items() for method in item if method in METHODS]


def without_parameter_names(text: str) -> str:
    """`/api/bills/{id}/` and `/api/bills/{bill_id}/` are one operation's path."""
    return PATH_PARAMETER.sub("{}", text)


@pytest.mark.parametrize("service", SERVICES)
def test_every_operation_of_the_schema_is_in_the_api_doc(service, tmp_path):
    documented = without_parameter_names(API_DOC.read_text())
    found = operations(openapi_schema(service, tmp_path))
    assert found, f"{service}'s schema has no operation"
    missing = [operation for operation in found if f"`{without_parameter_names(operation)}`" not in documented]
    assert not missing, f"docs/api.md does not document {service}'s {missing}"


# --- links ---------------------------------------------------------------------------------

FENCE = re.compile(r"^(```|~~~).*?^\1[ \t]*$", re.M | re.S)
CODE_SPAN = re.compile(r"(`+)(?!`).*?(?<!`)\1(?!`)", re.S)
INLINE_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]*)>?(?:\s+[\"'(][^)]*)?\)")
REFERENCE = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$", re.M)
HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$", re.M)


def markdown_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "*.md"],
        cwd=REPO, capture_output=True, text=True, check=True,
    ).stdout.split()
    return [REPO / name for name in listed if (REPO / name).exists()]


def prose(text: str) -> str:
    """The text with code blocks and code spans blanked: a `[x](y)` there is no link."""
    text = FENCE.sub(lambda match: "\n" * match.group(0).count("\n"), text)
    return CODE_SPAN.sub(lambda match: " " * len(match.group(0)), text)


def github_anchor(heading: str) -> str:
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).replace("`", "")
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


def anchors(markdown: Path) -> set[str]:
    found: set[str] = set()
    seen: dict[str, int] = {}
    for _, heading in HEADING.findall(prose(markdown.read_text())):
        anchor = github_anchor(heading)
        count = seen.get(anchor, 0)
        seen[anchor] = count + 1
        found.add(anchor if count == 0 else f"{anchor}-{count}")
    return found


def links(markdown: Path) -> list[str]:
    text = prose(markdown.read_text())
    return INLINE_LINK.findall(text) + REFERENCE.findall(text)


def broken_link(markdown: Path, target: str) -> str | None:
    """Why ``target`` (a link in ``markdown``) does not resolve inside the repo, or None."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None  # a web address
    path = Path(unquote(parts.path))
    if path.is_absolute():
        return "an absolute path"
    resolved = (markdown.parent / path).resolve() if parts.path else markdown
    if not resolved.is_relative_to(REPO):
        return "outside the repository"
    if not resolved.exists():
        return "no such file"
    if parts.fragment and resolved.suffix == ".md" and unquote(parts.fragment).lower() not in anchors(resolved):
        return f"no heading #{parts.fragment} in {resolved.relative_to(REPO)}"
    return None


def test_every_relative_link_of_every_markdown_file_resolves_inside_the_repo():
    files = markdown_files()
    assert REPO / "README.md" in files and API_DOC in files
    checked, broken = 0, []
    for markdown in files:
        for target in links(markdown):
            checked += 1
            why = broken_link(markdown, target)
            if why:
                broken.append(f"{markdown.relative_to(REPO)}: ({target}): {why}")
    assert checked > 10  # the links were found at all
    assert not broken, "\n".join(broken)


def test_the_readme_sends_newcomers_to_the_repos_own_reference():
    readme = REPO / "README.md"
    assert "docs/api.md" in links(readme)
    for markdown in markdown_files():  # not even as a path in prose: a clone has no ../shared
        assert "../shared/" not in markdown.read_text(), markdown


@pytest.mark.parametrize("target, why", [
    ("docs/nowhere.md", "no such file"),
    ("../shared/CONTRACT.md", "outside the repository"),
    ("docs/api.md#no-such-heading", "no heading"),
    ("/etc/passwd", "an absolute path"),
    ("docs/api.md#errors", None),
    ("#two-commands", None),
    ("https://example.com/x.md", None),
])
def test_the_link_check_tells_a_broken_link(target, why):
    found = broken_link(REPO / "README.md", target)
    assert (found is None) if why is None else (why in (found or "")), found


def test_links_in_code_are_not_links():
    text = "see [api](docs/api.md)\n```\nx[0](y)\n```\n`[a](b)` and ![pic](docs/bench.svg \"title\")\n[ref]: docs/x.md\n"
    found = INLINE_LINK.findall(prose(text)) + REFERENCE.findall(prose(text))
    assert found == ["docs/api.md", "docs/bench.svg", "docs/x.md"]
