"""emulator.patching: a patch of moto must name an attribute that exists, or be declared an addition."""

from __future__ import annotations

import pytest

from emulator import patching


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
