"""One module per ``helm ck8s-jupyter`` command that is more than a few lines.

Each module has ``register(subparsers)``, which adds its parser and sets
``handler=run`` through ``set_defaults``, and ``run(args) -> int`` (the exit code).
They stay thin: parse, call the library, print.
"""
