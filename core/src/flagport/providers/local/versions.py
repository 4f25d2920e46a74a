"""Version strings as the ``$v*`` condition operators compare them.

GrowthBook's rule: drop a leading ``v`` and any ``+build`` suffix, split on ``.`` and
``-``, append ``~`` to a plain three-part version (so ``1.0.0`` sorts after
``1.0.0-beta``: ``~`` is the largest printable ASCII character), left-pad every
all-digit part to five characters with spaces (so ``" 9" < "10"``) and join with
``-``. Two padded strings then compare as plain strings. Numbers are first written
the way JavaScript's ``String(number)`` writes them, so ``2`` and ``2.0`` are the
same version and ``1e21`` stays in exponent form, exactly as GrowthBook's SDKs do.
"""

from __future__ import annotations

import math
import re
from typing import Any

from flagport._memos import memoized

__all__ = ["compare_versions", "js_number_to_string", "padded_version", "padded_version_text"]

_STRIP = re.compile(r"(^v|\+.*$)")
_SPLIT = re.compile(r"[-.]")


def js_number_to_string(value: float) -> str:
    """Write a number the way JavaScript's ``String(number)`` does.

    JavaScript has only doubles, so an ``int`` is converted first (an ``int`` too large
    for a double is ``Infinity``). The shortest round-tripping digits (Python's
    ``repr``) are laid out in fixed notation for decimal exponents -6..21 and in
    exponent form (``1e+21``, ``1.5e-7``) otherwise.

    :param value: an ``int`` or ``float`` (not a ``bool``).
    :returns: the JavaScript spelling of ``value``.
    """
    try:
        x = float(value)
    except OverflowError:
        x = math.inf if value > 0 else -math.inf
    if math.isnan(x):
        return "NaN"
    if x == 0:
        return "0"
    if x < 0:
        return "-" + js_number_to_string(-x)
    if math.isinf(x):
        return "Infinity"
    mantissa, _, exponent = repr(x).partition("e")
    whole, _, fraction = mantissa.partition(".")
    significant = (whole + fraction).lstrip("0")
    digits = significant.rstrip("0")
    count = len(digits)
    # x == 0.<digits> * 10**point
    point = int(exponent or "0") - len(fraction) + len(significant)
    if count <= point <= 21:
        return digits + "0" * (point - count)
    if 0 < point <= 21:
        return digits[:point] + "." + digits[point:]
    if -6 < point <= 0:
        return "0." + "0" * -point + digits
    head = digits[0] + ("." + digits[1:] if count > 1 else "")
    return f"{head}e{'+' if point > 0 else '-'}{abs(point - 1)}"


@memoized(1024)
def padded_version_text(text: str) -> str:
    """The padded form of a non-empty version string (cached): see :func:`padded_version`."""
    parts = _SPLIT.split(_STRIP.sub("", text))
    if len(parts) == 3:
        parts.append("~")
    # str.isdigit (not isascii-digits) on purpose: it is what GrowthBook's Python SDK
    # uses, and the two must order exotic digit characters the same way.
    return "-".join(part.rjust(5, " ") if part.isdigit() else part for part in parts)


def padded_version(value: Any) -> str:
    """Return ``value`` as a padded version string that orders correctly as text.

    :param value: a version string or a number; anything else (and an empty string)
        counts as version ``0``.
    :returns: the padded form, e.g. ``"    1-    2-    3-~"`` for ``"v1.2.3"``.
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = js_number_to_string(value)
    if not value or not isinstance(value, str):
        value = "0"
    return padded_version_text(value)


def compare_versions(left: Any, right: Any) -> int:
    """Compare two versions.

    :returns: ``-1``, ``0`` or ``1`` as ``left`` is lower than, equal to or higher
        than ``right``.
    """
    a = padded_version(left)
    b = padded_version(right)
    return (a > b) - (a < b)
