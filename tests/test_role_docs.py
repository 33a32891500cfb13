"""Each role documents its variables once, in meta/argument_specs.yml: its
README's variables table and its defaults/main.yml agree with the specs
(the same variables, defaults and required ones)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("role_docs", ROOT / "scripts" / "role_docs.py")
role_docs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(role_docs)

ROLES = role_docs.role_dirs(ROOT)
REQUIRED, NONE = "required", "no default"


def _ids(role: Path) -> str:
    return role.name


def _options(role: Path) -> dict[str, dict]:
    """Every variable of every entry point of the role."""
    options: dict[str, dict] = {}
    for spec in role_docs.load_specs(role).values():
        options.update(spec.get("options", {}))
    return options


def _expected(option: dict):
    if option.get("required"):
        return REQUIRED
    return option.get("default", NONE)


def _same(a, b) -> bool:
    """Equal values of the same YAML types (so that "17" is not 17, nor true 1)."""
    if isinstance(a, bool) or isinstance(b, bool) or isinstance(a, str) or isinstance(b, str):
        return type(a) is type(b) and a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    return type(a) is type(b) and a == b


def _cells(row: str) -> list[str]:
    return [c.strip() for c in re.split(r"(?<!\\)\|", row.strip().strip("|"))]


def _default_of(cell: str):
    """What a README's default cell says: required, no default, a YAML value in backticks, or other words."""
    if cell == "required":
        return REQUIRED
    if cell in ("", role_docs.NO_DEFAULT):
        return NONE
    match = re.fullmatch(r"`+ ?(.*?) ?`+", cell)
    if match:
        try:
            return yaml.safe_load(match.group(1).replace("\\|", "|"))
        except yaml.YAMLError:
            pass
    return cell


def readme_table(role: Path) -> dict[str, object]:
    """The README's variables and what its table says of their defaults (the generated block, or, without it,
    the table of its Variables section; a row naming several variables gives each its share of the cell)."""
    text = (role / "README.md").read_text()
    if role_docs.BEGIN in text:
        section = text[text.index(role_docs.BEGIN) : text.index(role_docs.END)]
    else:
        match = re.search(r"^## Variables\n(.*?)(?=^## |\Z)", text, re.M | re.S)
        section = match.group(1) if match else ""
    found: dict[str, object] = {}
    column = None
    for row in (line for line in section.splitlines() if line.startswith("|")):
        cells = _cells(row)
        if cells[0] == "variable":
            column = cells.index("default")
            continue
        if column is None or set(cells[0]) <= set("-: "):
            continue
        names = re.findall(r"`([^`]+)`", cells[0])
        values = re.findall(r"`[^`]*`", cells[column])
        if len(names) > 1 and len(values) == len(names):
            shares = values
        elif len(names) > 1 and " / " in cells[column]:
            shares = cells[column].split(" / ")
        else:
            shares = [cells[column]] * len(names)
        for name, share in zip(names, shares, strict=True):
            found[name] = _default_of(share.strip())
    return found


def role_defaults(role: Path) -> dict:
    return yaml.safe_load((role / "defaults" / "main.yml").read_text()) or {}


def _public(name: str) -> bool:
    return not name.startswith("__")


@pytest.mark.parametrize("role", ROLES, ids=_ids)
def test_the_readme_table_documents_the_specs_variables_and_defaults(role):
    options, table = _options(role), readme_table(role)
    problems = [f"{name} is not in the table" for name in options if name not in table]
    problems += [f"{name} is in the table but not in the specs" for name in table if name not in options]
    problems += [
        f"{name}: the table says {table[name]!r}, the specs {_expected(options[name])!r}"
        for name in options
        if name in table and not _same(table[name], _expected(options[name]))
    ]
    assert not problems, f"{role.name}/README.md: " + "; ".join(problems)


@pytest.mark.parametrize("role", ROLES, ids=_ids)
def test_the_readme_table_is_the_one_the_specs_render(role):
    text = (role / "README.md").read_text()
    assert role_docs.BEGIN in text and role_docs.END in text, f"{role.name}/README.md has no generated table"
    assert role_docs.rewrite(text, role_docs.render(role)) == text, (
        f"{role.name}/README.md: the table differs from the specs; run python scripts/role_docs.py"
    )


@pytest.mark.parametrize("role", ROLES, ids=_ids)
def test_the_defaults_are_the_specs_defaults(role):
    options, defaults = _options(role), role_defaults(role)
    problems = [f"{name} is not in the specs" for name in defaults if _public(name) and name not in options]
    for name, option in options.items():
        expected = _expected(option)
        if expected in (REQUIRED, NONE):
            if name in defaults:
                problems.append(f"{name} has a default ({defaults[name]!r}), the specs none ({expected})")
        elif name not in defaults:
            problems.append(f"{name} has no default, the specs {expected!r}")
        elif not _same(defaults[name], expected):
            problems.append(f"{name} is {defaults[name]!r}, the specs say {expected!r}")
    assert not problems, f"{role.name}/defaults/main.yml: " + "; ".join(problems)


@pytest.mark.parametrize("role", ROLES, ids=_ids)
def test_the_defaults_file_holds_values_only(role):
    """Comments only at its head (a pointer to the specs): what the variables mean is said in the specs."""
    lines = (role / "defaults" / "main.yml").read_text().splitlines()
    first = next((i for i, line in enumerate(lines) if line and not line.startswith(("#", "---"))), len(lines))
    comments = [f"line {i + 1}" for i, line in enumerate(lines) if i > first and line.lstrip().startswith("#")]
    assert not comments, f"{role.name}/defaults/main.yml: comments below the first value: {', '.join(comments)}"
    assert any("meta/argument_specs.yml" in line for line in lines[:first]), "no pointer to the specs at the head"


@pytest.mark.parametrize("role", ROLES, ids=_ids)
def test_each_default_in_the_specs_has_its_option_type(role):
    """Ansible validates a variable against the specs: a default of another type would be refused (a default
    computed from other variables, a template, is checked once rendered: when the role runs)."""
    problems = []
    for name, option in _options(role).items():
        if option.get("required") and "default" in option:
            problems.append(f"{name} is required and has a default")
        value = option.get("default")
        if value is None or (isinstance(value, str) and "{{" in value):
            continue
        spec = {key: v for key, v in option.items() if key not in ("required", "description")}
        result = ArgumentSpecValidator({name: spec}).validate({name: value})
        if result.error_messages or not _same(result.validated_parameters[name], value):
            problems.append(f"{name}: {result.error_messages or result.validated_parameters[name]!r}")
    assert not problems, f"{role.name}/meta/argument_specs.yml: " + "; ".join(problems)
