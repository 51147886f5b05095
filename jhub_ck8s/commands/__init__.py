"""The ``helm ck8s-jupyter`` commands: one module per command (or closely related pair).

Every module is registered the same way: ``register(subparsers)`` adds its parser(s) and
sets ``handler`` (``args.handler(args) -> int``, the exit code) through ``set_defaults``.
They stay thin: build a request from the flags, call the library, print what it returned.
``cli.main`` builds the parser from ``MODULES``, in this order (the order of ``--help``).

``chart_flags`` is not a command: it holds the chart flags several commands share.
"""

from __future__ import annotations

import importlib
from types import ModuleType

# the order of --help: the everyday path first (deploy, render, images, mirror, check), then one-off helpers
MODULES = ("deploy", "preflight", "diff", "images", "mirror", "check", "init", "import_values", "setup")


def command_modules() -> list[ModuleType]:
    """The command modules, in ``MODULES`` order."""
    return [importlib.import_module(f"{__name__}.{name}") for name in MODULES]
