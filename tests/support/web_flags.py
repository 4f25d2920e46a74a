"""The flags file the framework integrations' tests serve, and a post-fork edit of it."""

from __future__ import annotations

import os
from pathlib import Path

FLAGS = """\
version: 1
gates:
  staff_tools:
    rules:
      - {{id: staff, when: {{is_staff: true}}}}
  beta:
    enabled: {beta}
    rules:
      - {{id: everyone}}
experiments:
  button_color:
    groups:
      - {{name: blue, weight: 100, value: {{color: blue}}}}
configs:
  banner:
    default: {{text: Hello}}
"""


def write_flags(path: Path, *, beta: bool) -> Path:
    """Write the flags file atomically (a new file renamed over the old one)."""
    fresh = path.with_name(f".{path.name}.new")
    fresh.write_text(FLAGS.format(beta="true" if beta else "false"))
    os.replace(fresh, path)
    return path
