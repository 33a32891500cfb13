"""The emulator's patches of moto, as emulator.patching records them.

A patch whose attribute a newer moto renamed would do nothing: these tests check that every patch replaced
something moto really has (in a fresh interpreter, with moto as installed, before the emulator touches it), that
no patch silently undoes another, that no subclass of a patched class hides the patch, and that the list of patches
is the one checked in (``patches.txt``), so that a patch that disappears is noticed.
"""

from __future__ import annotations

import collections
import difflib
import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from emulator import ext, patching

ROOT = Path(__file__).resolve().parents[2]
EXPECTED = Path(__file__).with_name("patches.txt")
# Installed by ext.rds.
RDS_MODULES = (
    "rds_proxy",
    "rds_proxy_endpoints",
    "rds_lifecycle",
    "rds_engine_versions",
    "rds_modify",
    "rds_monitoring",
    "rds_managed_password",
)


@pytest.fixture(scope="module")
def patches() -> list[patching.Patch]:
    ext.install()
    return list(patching.PATCHES)


def _expected() -> list[str]:
    lines = EXPECTED.read_text().splitlines()
    return [line for line in lines if line.strip() and not line.startswith("#")]


def test_the_patches_are_the_checked_in_list(patches):
    actual = [p.line() for p in patches]
    diff = "\n".join(difflib.unified_diff(_expected(), actual, "patches.txt", "ext.install()", lineterm=""))
    assert actual == _expected(), f"the emulator's patches changed; if deliberately, update {EXPECTED.name}:\n{diff}"


def test_every_module_patches_what_it_did(patches):
    counts = collections.Counter(p.module for p in patches)
    expected = collections.Counter(line.split()[0] for line in _expected())
    assert counts == expected
    # Every module that ext installs, directly or through ext.rds, patches something.
    for name in (*ext.MODULES, *RDS_MODULES):
        assert counts[f"emulator.ext.{name}"] > 0, name


def test_every_replaced_attribute_exists_in_moto_as_installed(patches):
    """In a fresh interpreter (moto untouched by the emulator): what is wrapped or replaced exists, what is
    added does not."""
    wanted = [(p.target, p.attribute, p.kind) for p in patches]
    script = """
import json, sys
from emulator import patching

problems = []
for target, attribute, kind in json.load(sys.stdin):
    exists = patching.exists(patching.resolve(target), attribute)
    if exists != (kind != patching.ADD):
        problems.append(f"{kind} {target}.{attribute}: {'exists' if exists else 'missing'} in moto")
print(json.dumps(problems))
"""
    answer = subprocess.run(
        [sys.executable, "-c", script],
        input=json.dumps(wanted),
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
        timeout=120,
    )
    assert json.loads(answer.stdout) == []


def test_a_patch_of_a_patched_attribute_wraps_the_earlier_one(patches):
    last: dict[tuple[str, str], int] = {}
    for index, patch in enumerate(patches):
        earlier = last.get((patch.target, patch.attribute))
        if earlier is not None:
            assert patch.kind == patching.WRAP, f"{patch.line()} silently replaces {patches[earlier].line()}"
            assert patch.replaces == earlier, f"{patch.line()} does not wrap {patches[earlier].line()}"
        elif patch.replaces is not None:  # the attribute as patched on a base class
            assert patch.kind == patching.WRAP, f"{patch.line()} silently replaces {patches[patch.replaces].line()}"
        last[(patch.target, patch.attribute)] = index


def test_the_patches_are_in_effect_and_no_subclass_hides_them(patches):
    final = {(p.target, p.attribute): p for p in patches}
    for (target, attribute), patch in final.items():
        owner = patching.resolve(target)
        assert vars(owner).get(attribute) is patch.value, f"{patch.line()} is no longer in effect"
        if not isinstance(owner, type):
            continue
        pending = list(owner.__subclasses__())
        while pending:
            subclass = pending.pop()
            pending.extend(subclass.__subclasses__())
            assert attribute not in vars(subclass), f"{subclass.__qualname__}.{attribute} hides {patch.line()}"


def test_installing_again_changes_nothing(patches):
    ext.install()
    for name in (*ext.MODULES, *RDS_MODULES):
        importlib.import_module(f"emulator.ext.{name}").install()
    assert patches == patching.PATCHES


# -- the helper itself ------------------------------------------------------------------------------------------------


class Model:
    kind = "moto's"

    def __init__(self) -> None:
        self.status = "available"

    def describe(self) -> str:
        return "moto's answer"


@pytest.fixture
def records(monkeypatch) -> list[patching.Patch]:
    """A record of its own for patches of the test's class, and the class restored afterwards."""
    monkeypatch.setattr(patching, "PATCHES", [])
    saved = dict(vars(Model))
    yield patching.PATCHES
    for name in set(vars(Model)) - set(saved):
        delattr(Model, name)
    for name, value in saved.items():
        if name not in ("__dict__", "__weakref__"):
            setattr(Model, name, value)


def test_a_missing_attribute_is_refused(records):
    for call in (
        lambda: patching.patch(Model, "describe_all", value=lambda self: "new"),
        lambda: patching.patch(Model, "describe_all", lambda original: original),
    ):
        with pytest.raises(patching.PatchError) as info:
            call()
        message = str(info.value)
        assert message.startswith(f"{__name__}: ")  # the module that asked
        assert f"{Model.__module__}.Model has no attribute 'describe_all'" in message
    assert not hasattr(Model, "describe_all")
    assert records == []


def test_an_addition_must_be_declared_and_new(records):
    patching.patch(Model, "modify", value=lambda self: "added", add=True)
    assert Model().modify() == "added"
    for existing in ("describe", "kind", "status"):  # a method, a class attribute, an instance attribute
        with pytest.raises(patching.PatchError, match=f"already has an attribute '{existing}'"):
            patching.patch(Model, existing, value=None, add=True)
    assert [(p.attribute, p.kind, p.module) for p in records] == [("modify", "add", __name__)]


def test_wrap_and_replace(records):
    patching.patch(Model, "describe", lambda original: lambda self: original(self).upper())
    patching.patch(Model, "describe", lambda original: lambda self: f"[{original(self)}]")
    patching.patch(Model, "kind", value="emulator's")
    # moto's instance attribute, taken over by a property
    patching.patch(Model, "status", value=property(lambda self: "creating", lambda self, value: None))
    assert (Model().describe(), Model.kind, Model().status) == ("[MOTO'S ANSWER]", "emulator's", "creating")
    assert [(p.attribute, p.kind, p.on_instances, p.replaces) for p in records] == [
        ("describe", "wrap", False, None),
        ("describe", "wrap", False, 0),
        ("kind", "replace", False, None),
        ("status", "replace", True, None),
    ]
    with pytest.raises(TypeError):
        patching.patch(Model, "describe")
    with pytest.raises(patching.PatchError):
        patching.patch(Model, "status_code", lambda original: original)
