"""``python -m flagport``: the ``flagport`` command without its console script.

The CLI (click, rich) is imported here, not by ``import flagport``, so applications
that never run the command never pay for it.
"""

from __future__ import annotations

from flagport.cli import main

if __name__ == "__main__":
    main()
