#!/usr/bin/env python3
"""Helm post-renderer entry point: ``helm template ... --post-renderer ./postrender.py``.

Reads the rendered stream on stdin, writes the admissible stream on stdout, the report
on stderr. All the work is in ``jhub_ck8s``; see ``postrender.py --help``.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from jhub_ck8s.postrenderer import main

if __name__ == "__main__":
    sys.exit(main())
