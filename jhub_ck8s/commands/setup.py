"""``helm ck8s-jupyter setup``: link the post-renderer executable where Helm 3 finds it.

Helm 3 takes ``--post-renderer`` as a path or a name on PATH; this puts a ``jhub-ck8s``
link to the plugin's ``bin/jhub-ck8s`` in a folder on PATH. Helm 4 needs none of it
(``deploy`` and ``render`` register a private post-renderer plugin per run).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from ..errors import UserError
from .chart_flags import say

EPILOG = "example:\n  helm ck8s-jupyter setup --bin-dir ~/.local/bin"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "setup", help="link the post-renderer for Helm 3", formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EPILOG,
    )
    parser.add_argument("--bin-dir", metavar="DIR", help="folder on PATH for the jhub-ck8s link (default: ~/.local/bin)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..release import plugin_root

    target = plugin_root() / "bin" / "jhub-ck8s"
    bin_dir = Path(args.bin_dir).expanduser() if args.bin_dir else Path.home() / ".local" / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    link = bin_dir / "jhub-ck8s"
    if link.is_symlink() or link.exists():
        if link.resolve() == target.resolve():
            say(f"{link} already points to {target}")
            return 0
        raise UserError(f"{link} exists and is not ours; remove it or choose --bin-dir")
    link.symlink_to(target)
    say(f"linked {link} -> {target}")
    on_path = str(bin_dir) in os.environ.get("PATH", "").split(os.pathsep)
    say("Helm 3 can now use --post-renderer jhub-ck8s" if on_path else f"{bin_dir} is not on PATH; add it, or pass --post-renderer {link}")
    return 0
