"""The Statsig SDK's console output, routed through Python logging.

Left to itself the SDK prints on stdout, where flagport's redaction cannot reach: its
errors quote the definitions URL, which ends with the server secret (in full for a key
without the ``secret-`` prefix, its first 12 characters and tail otherwise).
"""

from __future__ import annotations

import logging
import re

from statsig_python_core import OutputLoggerProvider

__all__ = ["SdkOutput", "masked_whole"]

# The SDK's own masking of a key keeps its first 12 characters and its tail
# (``secret-abcde*****-rest``), which flagport's redaction of the whole key misses.
_SDK_MASKED_KEY = re.compile(r"[\w-]*\*{4,}[\w-]*")


def masked_whole(text: str) -> str:
    """``text`` with each key the SDK masked in part replaced whole by ``***``."""
    return _SDK_MASKED_KEY.sub("***", text)


class SdkOutput(OutputLoggerProvider):
    """The SDK's console output, as records of the ``statsig`` logger.

    Left to itself the SDK prints on stdout, where flagport's redaction cannot reach:
    its errors quote the definitions URL, which ends with the server secret. As log
    records they are redacted like every other (and the application decides where they
    go). ``log_level`` still chooses what the SDK reports.
    """

    _logger = logging.getLogger("statsig")

    def _log(self, level: int, tag: str, msg: str) -> None:
        self._logger.log(level, "[%s] %s", tag, masked_whole(msg))

    def debug(self, tag: str, msg: str) -> None:
        self._log(logging.DEBUG, tag, msg)

    def info(self, tag: str, msg: str) -> None:
        self._log(logging.INFO, tag, msg)

    def warn(self, tag: str, msg: str) -> None:
        self._log(logging.WARNING, tag, msg)

    def error(self, tag: str, msg: str) -> None:
        self._log(logging.ERROR, tag, msg)
