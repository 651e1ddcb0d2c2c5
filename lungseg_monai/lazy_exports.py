"""A package's exported names, imported on first use (PEP 562), so that its light modules load without the rest."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from importlib import import_module
from importlib.util import find_spec
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(package: str, defined_in: Mapping[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Return a module ``__getattr__`` and ``__dir__`` for ``package``.

    ``__getattr__`` imports an exported name from its module (``defined_in``: name -> a submodule of ``package``,
    or a dotted module name for a name the package re-exports from another) or a submodule by its name
    (``package.exit_codes``, as a bundle config reads it), on first use, and keeps it on the package; any other
    name is an ``AttributeError``, as for a plain module.

    Raises:
        ValueError: an exported name is also a submodule's: importing that submodule would replace the name on the
            package with the module (import it in the package's ``__init__`` instead).

    """
    shadowed = [name for name in defined_in if find_spec(f"{package}.{name}") is not None]
    if shadowed:
        raise ValueError(f"{package}: {', '.join(shadowed)} named as submodules; import them at once instead")

    def module_getattr(name: str) -> Any:
        if name in defined_in:
            module = defined_in[name] if "." in defined_in[name] else f"{package}.{defined_in[name]}"
            value = getattr(import_module(module), name)
        else:
            try:
                value = import_module(f"{package}.{name}")
            except ModuleNotFoundError as err:
                if err.name != f"{package}.{name}":
                    raise
                raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        setattr(sys.modules[package], name, value)
        return value

    def module_dir() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(defined_in))

    return module_getattr, module_dir
