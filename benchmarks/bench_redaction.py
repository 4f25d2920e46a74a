"""What redacting live secrets from log records costs, per record logged.

Run: ``uv run python benchmarks/bench_redaction.py``. Prints medians of interleaved
``timeit`` runs in µs per ``logger.info(...)`` call (a record made and handed to a
handler that drops it): with logging's own record factory, with flagport's factory
and no live secret (no provider holding one), and with three providers' secrets live.
Records below a logger's level are never made, so they cost nothing extra.
"""

from __future__ import annotations

import logging
import statistics
import timeit
from collections.abc import Callable

from flagport import _redact

NUMBER = 20_000
REPEAT = 9


class _Owner:
    """Stands for a provider holding a secret."""


def main() -> None:
    log = logging.getLogger("bench.redaction.child")
    log.setLevel(logging.INFO)
    log.propagate = False
    log.addHandler(logging.NullHandler())

    def record() -> None:
        log.info("GET %s returned %d in %.1f ms", "/api/features/sdk-public", 200, 1.5)

    plain = logging.getLogRecordFactory()
    owners = [_Owner() for _ in range(3)]

    def using(
        factory: Callable[..., logging.LogRecord] | None, secrets: int
    ) -> Callable[[], float]:
        def run() -> float:
            for i, owner in enumerate(owners):
                if i < secrets:
                    _redact.protect(owner, f"sdk-benchmark-secret-{i}-7Qx9v2Wb")
                else:
                    _redact.release(owner)
            logging.setLogRecordFactory(factory or redacting)
            return timeit.timeit(record, number=NUMBER) / NUMBER * 1e6

        return run

    _redact.protect(owners[0], "sdk-benchmark-secret-installs-the-factory")
    redacting = logging.getLogRecordFactory()
    cases = {
        "logging's own factory": using(plain, 0),
        "flagport's, no live secret": using(None, 0),
        "flagport's, 3 live secrets": using(None, 3),
    }
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(REPEAT):
        for name, run in cases.items():
            samples[name].append(run())
    logging.setLogRecordFactory(redacting)
    base = statistics.median(samples["logging's own factory"])
    for name, values in samples.items():
        median = statistics.median(values)
        print(f"{name:28} {median:6.2f} µs per record  ({median / base:.2f}x)")
    for owner in owners:
        _redact.release(owner)


if __name__ == "__main__":
    main()
