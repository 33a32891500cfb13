"""The one way the emulator changes moto's (or another library's) classes and modules.

The modules of ``emulator/ext`` make moto behave as AWS documents by replacing
attributes of moto's classes and modules.  A plain assignment to an attribute
that a newer moto has renamed would only create a new attribute that nobody
reads, and the behaviour it was meant to change would quietly be moto's again.
:func:`patch` refuses that: the attribute must exist on the target (on the
class or one of its bases, or stored on its instances by moto's own code)
before it is replaced, and an attribute that the emulator adds where moto has
none must be declared as an addition (``add=True``), which in turn refuses an
attribute moto already has.  Every patch is recorded in :data:`PATCHES` (the
target's qualified name, the attribute, the emulator module that made it, how)
so that ``tests/emulator/test_patches.py`` can compare them with the list it
expects.

:func:`install_once` makes a module's ``install()`` harmless to call twice.
"""

from __future__ import annotations

import dis
import functools
import importlib
import sys
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

WRAP = "wrap"  # the new value is made from the one it replaces and calls it
REPLACE = "replace"  # the new value takes the place of moto's
ADD = "add"  # moto has no such attribute; the emulator adds it

_UNSET: Any = object()


class PatchError(AttributeError):
    """A patch whose target does not look as the emulator expects: nothing was changed."""


@dataclass(frozen=True)
class Patch:
    target: str  # qualified name of the class or module, e.g. "moto.rds.models.RDSBackend"
    attribute: str
    module: str  # the emulator module that made the patch
    kind: str  # WRAP, REPLACE or ADD
    on_instances: bool  # the attribute replaced is one that moto's code stores on each instance
    replaces: int | None  # index in PATCHES of an earlier patch whose value this one replaces
    value: Any

    def line(self) -> str:
        where = " (instance attribute)" if self.on_instances else ""
        return f"{self.module} {self.kind} {self.target}.{self.attribute}{where}"


PATCHES: list[Patch] = []
_INSTALLED: set[str] = set()


def qualified_name(target: Any) -> str:
    if isinstance(target, types.ModuleType):
        return target.__name__
    return f"{target.__module__}.{target.__qualname__}"


def _static(target: Any, attribute: str) -> Any:
    """The attribute as stored (a function, a property, a value), looked up without calling descriptors."""
    owners = target.__mro__ if isinstance(target, type) else (target,)
    for owner in owners:
        stored = vars(owner).get(attribute, _UNSET)
        if stored is not _UNSET:
            return stored
    return _UNSET


def _codes(value: Any) -> Iterator[types.CodeType]:
    """The code objects of a class attribute: a function's, a property's accessors', and those nested in them."""
    if isinstance(value, property):
        functions = [value.fget, value.fset, value.fdel]
    elif isinstance(value, staticmethod | classmethod):
        functions = [value.__func__]
    else:
        functions = [value]
    pending = [f.__code__ for f in functions if isinstance(f, types.FunctionType)]
    while pending:
        code = pending.pop()
        yield code
        pending.extend(const for const in code.co_consts if isinstance(const, types.CodeType))


def _stored_on_instances(cls: type, attribute: str) -> bool:
    """Whether the code of ``cls`` or of its bases assigns ``self.<attribute>`` (an instance attribute)."""
    for owner in cls.__mro__:
        if owner is object:
            continue
        if attribute in getattr(owner, "__dataclass_fields__", {}):
            return True
        for value in vars(owner).values():
            for code in _codes(value):
                if attribute in code.co_names and any(
                    instruction.opname == "STORE_ATTR" and instruction.argval == attribute
                    for instruction in dis.get_instructions(code)
                ):
                    return True
    return False


def exists(target: Any, attribute: str) -> bool:
    """Whether ``target`` (a class or a module) has ``attribute``: on the class or a base, or on its instances."""
    if _static(target, attribute) is not _UNSET:
        return True
    return isinstance(target, type) and _stored_on_instances(target, attribute)


def resolve(name: str) -> Any:
    """The module or class of a qualified name such as ``moto.rds.models.RDSBackend``."""
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            found: Any = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for part in parts[cut:]:
            found = getattr(found, part)
        return found
    raise LookupError(name)


def patch(
    target: Any,
    attribute: str,
    wrapper: Callable[[Any], Any] | None = None,
    *,
    value: Any = _UNSET,
    add: bool = False,
) -> Any:
    """Set ``target.<attribute>`` and record it; return the new value.

    - ``patch(cls, name, wrapper)``: the new value is ``wrapper(original)``, where
      ``original`` is the attribute as ``getattr`` gives it (a function, or a property);
    - ``patch(cls, name, value=new)``: the new value replaces the attribute;
    - ``patch(cls, name, value=new, add=True)``: the attribute must not exist yet.

    A replaced attribute must exist on the target, or be one that the code of the target's class stores on its
    instances (replaced then by a property on the class); otherwise :class:`PatchError`, naming the target and the
    attribute, and nothing changes.
    """
    if (wrapper is None) == (value is _UNSET):
        raise TypeError("patch() takes either a wrapper or value=")
    if add and wrapper is not None:
        raise TypeError("an addition has nothing to wrap: pass value=")
    module = sys._getframe(1).f_globals.get("__name__", "?")
    name = qualified_name(target)
    stored = _static(target, attribute)
    on_instances = False
    if add:
        if exists(target, attribute):
            raise PatchError(
                f"{module}: {name} already has an attribute {attribute!r}; the emulator meant to add it "
                "(a newer moto may implement it: replace or wrap it instead, if that is still needed)"
            )
        kind = ADD
    elif stored is not _UNSET:
        kind = REPLACE if wrapper is None else WRAP
    elif wrapper is None and isinstance(target, type) and _stored_on_instances(target, attribute):
        kind, on_instances = REPLACE, True
    else:
        raise PatchError(
            f"{module}: {name} has no attribute {attribute!r} to patch "
            "(renamed or removed in this version of moto? declare add=True only if the emulator really adds it)"
        )
    if wrapper is not None:
        value = wrapper(getattr(target, attribute))
    replaces = next(
        (i for i, p in enumerate(PATCHES) if p.attribute == attribute and stored is not _UNSET and p.value is stored),
        None,
    )
    setattr(target, attribute, value)
    PATCHES.append(Patch(name, attribute, module, kind, on_instances, replaces, value))
    return value


def install_once(install: Callable[[], None]) -> Callable[[], None]:
    """Decorate a module's ``install()`` so that calling it again does nothing."""
    key = f"{install.__module__}.{install.__qualname__}"

    @functools.wraps(install)
    def once() -> None:
        if key in _INSTALLED:
            return
        _INSTALLED.add(key)
        install()

    return once


def listing() -> list[str]:
    """One line per patch, in the order they were made (what tests/emulator/patches.txt holds)."""
    return [p.line() for p in PATCHES]
