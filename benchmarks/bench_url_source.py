"""The local provider reading a URL: what polling costs the application, and how fast a
change reaches every worker of a host.

Run: ``uv run python benchmarks/bench_url_source.py`` (nginx on PATH or in /usr/sbin).

1. Gate checks per second in one process, without polling (``watch=False``) and while
   the provider polls a private nginx every 1 s, 100 ms and 10 ms (every answer a 304),
   interleaved rounds, medians; the ratio to no polling in the same round is what
   polling costs the application.
2. 32 worker processes (forked, as a pre-forking server's) sharing one ``cache_path``:
   the file on nginx is replaced; each worker reports when it first serves the new
   version. Prints the distribution of those delays against the bound
   ``poll_interval * (1 + poll_jitter) + 100 ms``, and the requests nginx received.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "support"))

from nginx_server import nginx_server
from url_helpers import flags, publish
from url_workers import Workers

from flagport import Flagport, User

USER = User(user_id="user-1")
ROUNDS = 15
ROUND_S = 0.5
WORKERS = 32
INTERVAL = 1.0
JITTER = 0.1
CHANGES = 3


GATES = """
gates:
  new_checkout:
    rules:
      - {id: us, when: {country: US}}
      - {id: rollout, pass_percentage: 50}
"""


def checks_per_second(fp: Flagport) -> float:
    check = fp.check_gate
    count = 0
    deadline = time.perf_counter() + ROUND_S
    while time.perf_counter() < deadline:
        for _ in range(1000):
            check(USER, "new_checkout")
        count += 1000
    return count / ROUND_S


def polling_cost(url: str) -> None:
    print("1. gate checks per second while polling (every poll a 304)")
    configs = {
        "no polling": {"watch": False},
        "poll every 1 s": {"poll_interval": 1.0},
        "poll every 100 ms": {"poll_interval": 0.1},
        "poll every 10 ms": {"poll_interval": 0.01},
    }
    rates: dict[str, list[float]] = {name: [] for name in configs}
    polls: dict[str, int] = dict.fromkeys(configs, 0)
    for _ in range(ROUNDS):
        for name, options in configs.items():
            # One client at a time: another's polling thread would share this GIL.
            with Flagport(provider="local", url=url, **options) as fp:
                fp.check_gate(USER, "new_checkout")  # start: first fetch, thread
                rates[name].append(checks_per_second(fp))
                polls[name] += fp.stats()["provider"]["url"]["responses"]["304"]
    base = rates["no polling"]
    for name, rate_list in rates.items():
        # Each round's ratio to the no-polling run of the same round, then the median:
        # the machine's load drifts between rounds, less within one.
        ratio = statistics.median(r / b for r, b in zip(rate_list, base, strict=True))
        print(
            f"   {name:<18} {statistics.median(rate_list) / 1e6:6.3f} M checks/s"
            f"   x{ratio:5.3f} (median of paired rounds)"
            f"   {polls[name]} polls answered 304 during the runs"
        )


def propagation(root: Path, url: str, cache: str) -> None:
    print(
        f"\n2. a change reaching {WORKERS} workers of one host "
        f"(poll_interval={INTERVAL}s, jitter {JITTER:.0%}, one poller)"
    )
    bound = INTERVAL * (1 + JITTER) + 0.1
    workers = Workers(WORKERS, url, cache, interval=INTERVAL)
    workers.start()
    delays: list[float] = []
    try:
        workers.collect(workers.all_serve(1), timeout=300)
        for version in range(2, 2 + CHANGES):
            time.sleep(INTERVAL * 0.37)  # publish at a different phase of the poll cycle
            published = time.time()
            publish(root, "flags.yaml", flags(version) + "# " + "x" * version + "\n")
            seen = workers.collect(workers.all_serve(version), timeout=300)
            delays += [s.at - published for s in seen if s.version == version]
    finally:
        workers.stop()
    delays.sort()

    def at(q: float) -> float:
        return delays[min(len(delays) - 1, int(q * len(delays)))] * 1000

    print(
        f"   {len(delays)} arrivals ({CHANGES} changes x {WORKERS} workers), ms after publish:"
        f" min {at(0):.0f}  p50 {at(0.5):.0f}  p90 {at(0.9):.0f}  p99 {at(0.99):.0f}"
        f"  max {delays[-1] * 1000:.0f}"
    )
    within = sum(d <= bound for d in delays)
    print(
        f"   within poll_interval + jitter + 100 ms ({bound * 1000:.0f} ms): {within}/{len(delays)}"
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as work, nginx_server(Path(work) / "nginx") as nginx:
        (nginx.root / "flags.yaml").write_text(GATES)
        polling_cost(nginx.url())
        publish(nginx.root, "flags.yaml", flags(1))
        before = len(nginx.statuses())
        start = time.monotonic()
        propagation(nginx.root, nginx.url(), str(Path(work) / "cache" / "flags.yaml"))
        elapsed = time.monotonic() - start
        requests = len(nginx.statuses()) - before
        print(
            f"   nginx received {requests} requests in {elapsed:.1f}s from {WORKERS} workers "
            f"({requests / elapsed * INTERVAL:.2f} per interval; without a shared poller "
            f"{WORKERS} per interval)"
        )


if __name__ == "__main__":
    main()
