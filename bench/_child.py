"""Running a benchmark script again in a fresh process, so each size has its own peak memory."""

from __future__ import annotations

import json
import subprocess
import sys


def run_in_child(script: str, *args: str) -> dict:
    """Run ``script`` with ``args`` in a new Python and parse the JSON of its last line."""
    done = subprocess.run(
        [sys.executable, script, *args], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])
