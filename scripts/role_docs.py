"""Render each role's README variables table from its meta/argument_specs.yml.

The argument specs are the one description of a role's variables (type,
default, required, description); the README's table between the markers

    <!-- BEGIN variables (generated from meta/argument_specs.yml) -->
    <!-- END variables -->

is made from them, one table per entry point. Everything outside the markers
is the README's own prose.

    python scripts/role_docs.py           rewrite the tables that differ
    python scripts/role_docs.py --check   rewrite nothing; exit 1 naming the READMEs whose table differs
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
BEGIN = "<!-- BEGIN variables (generated from meta/argument_specs.yml) -->"
END = "<!-- END variables -->"
NO_DEFAULT = "—"  # neither required nor given a default: the role works without it, or says when it needs it

# Ansible's markup in descriptions: C(code), V(value), O(option) or O(option=value), E(env), RV(return value),
# M(module), P(plugin#type), I(italic), B(bold), U(url), L(text, url), R(text, reference).
_MARKUP = re.compile(r"\b(RV|[CVOEMPIBULR])\(((?:[^\\)]|\\.)*)\)")
_UNESCAPE = re.compile(r"\\(.)")


def role_dirs(root: Path = ROOT) -> list[Path]:
    """The roles, each a directory of roles/ with tasks."""
    return sorted(p for p in (root / "roles").iterdir() if (p / "tasks" / "main.yml").is_file())


def load_specs(role: Path) -> dict:
    """The role's entry points (``main`` first), each with its options."""
    specs = yaml.safe_load((role / "meta" / "argument_specs.yml").read_text())["argument_specs"]
    return dict(sorted(specs.items(), key=lambda item: item[0] != "main"))


def yaml_value(value) -> str:
    """``value`` as YAML on one line (flow style), strings quoted only when YAML needs it."""
    if isinstance(value, list):
        text = "[" + ", ".join(yaml_value(v) for v in value) + "]"
    elif isinstance(value, dict):
        text = "{" + ", ".join(f"{yaml_value(k)}: {yaml_value(v)}" for k, v in value.items()) + "}"
    else:
        text = yaml.safe_dump(value, default_flow_style=True, width=2**16).removesuffix("\n...\n").strip()
        if isinstance(value, str) and text != value:
            text = json.dumps(value, ensure_ascii=False)
    try:
        same = yaml.safe_load(text) == value
    except yaml.YAMLError:
        same = False
    return text if same else json.dumps(value, ensure_ascii=False)


def code(text: str) -> str:
    """A Markdown code span, ``|`` escaped for a table cell."""
    text = text.replace("|", "\\|")
    return f"`` {text} ``" if "`" in text else f"`{text}`"


def _plain(text: str) -> str:
    """Text outside code spans, made safe in a Markdown table cell."""
    return re.sub(r"<(?=[A-Za-z/!])", r"\<", text.replace("|", "\\|"))


def markdown(text: str) -> str:
    """A description with Ansible's markup rendered as Markdown, for a table cell."""
    out, end = [], 0
    for match in _MARKUP.finditer(text):
        out.append(_plain(text[end : match.start()]))
        kind, body = match.group(1), _UNESCAPE.sub(r"\1", match.group(2))
        if kind == "I":
            out.append(f"*{_plain(body)}*")
        elif kind == "B":
            out.append(f"**{_plain(body)}**")
        elif kind == "U":
            out.append(f"<{body}>")
        elif kind == "L":
            label, _, url = body.partition(",")
            out.append(f"[{_plain(label.strip())}]({url.strip()})")
        elif kind == "R":
            out.append(_plain(body.partition(",")[0].strip()))
        elif kind == "P":
            out.append(code(body.partition("#")[0]))
        else:
            out.append(code(body))
        end = match.end()
    out.append(_plain(text[end:]))
    return "".join(out)


def description(option: dict) -> str:
    """The option's description (its paragraphs joined) as Markdown."""
    paragraphs = option.get("description", [])
    if isinstance(paragraphs, str):
        paragraphs = [paragraphs]
    return markdown(" ".join(p.strip() for p in paragraphs))


def type_name(option: dict) -> str:
    kind = option.get("type", "str")
    return f"{kind} of {option['elements']}" if kind == "list" and "elements" in option else kind


def default_cell(option: dict) -> str:
    """``required``, the default as YAML in a code span, or a dash when there is neither."""
    if option.get("required"):
        return "required"
    if "default" in option:
        return code(yaml_value(option["default"]))
    return NO_DEFAULT


def _choices(option: dict) -> str:
    if "choices" not in option:
        return ""
    return " Choices: " + ", ".join(code(yaml_value(c)) for c in option["choices"]) + "."


def _suboptions(options: dict, prefix: str) -> list[str]:
    """One line per suboption (``name`` (type, default): description), nested ones with their path."""
    lines = []
    for name, option in options.items():
        facts = [type_name(option)]
        if option.get("required"):
            facts.append("required")
        elif "default" in option:
            facts.append("default " + code(yaml_value(option["default"])))
        lines.append(f"{code(prefix + name)} ({', '.join(facts)}): {description(option)}{_choices(option)}")
        if "options" in option:
            lines += _suboptions(option["options"], f"{prefix}{name}{'[].' if option.get('type') == 'list' else '.'}")
    return lines


def table(options: dict) -> list[str]:
    """The Markdown table of one entry point's options, in the specs' order."""
    rows = ["| variable | type | default | description |", "| --- | --- | --- | --- |"]
    for name, option in options.items():
        cell = description(option) + _choices(option)
        if "options" in option:
            cell = "<br>".join([cell, *_suboptions(option["options"], "")])
        rows.append(f"| {code(name)} | {type_name(option)} | {default_cell(option)} | {cell} |")
    return rows


def render(role: Path) -> str:
    """The generated block of the role's README, markers included."""
    lines = [BEGIN]
    for entry_point, spec in load_specs(role).items():
        if entry_point != "main":
            summary = markdown(spec.get("short_description", "").rstrip("."))
            lines += ["", f"Entry point {code(entry_point)} ({code(f'tasks_from: {entry_point}.yml')}): {summary}.", ""]
        lines += table(spec.get("options", {}))
    lines.append(END)
    return "\n".join(lines)


def rewrite(text: str, block: str, where: str = "README.md") -> str:
    """``text`` with the block between the markers replaced by ``block``."""
    start, stop = text.find(BEGIN), text.find(END)
    if start < 0 or stop < start:
        raise ValueError(f"{where}: no variables table to generate; put {BEGIN} and {END} where it goes")
    return text[:start] + block + text[stop + len(END) :]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="change nothing; fail when a table differs")
    args = parser.parse_args(argv)
    status = 0
    for role in role_dirs():
        readme = role / "README.md"
        where = str(readme.relative_to(ROOT))
        text = readme.read_text()
        try:
            new = rewrite(text, render(role), where)
        except ValueError as error:
            print(error)
            status = 1
            continue
        if new == text:
            continue
        if args.check:
            print(f"{where}: the variables table differs from meta/argument_specs.yml (python scripts/role_docs.py)")
            status = 1
        else:
            readme.write_text(new)
            print(f"{where}: variables table rewritten")
    return status


if __name__ == "__main__":
    sys.exit(main())
