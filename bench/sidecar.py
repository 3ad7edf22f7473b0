"""What the sidecar proxy costs with many apps at once: N apps speaking straight to the emulator and N through
``flushscope proxy --capture-dir`` (one capture file per connection).

    .venv/bin/python bench/sidecar.py [--apps 20] [--rounds 30]

Three processes on loopback, as ``bench/proxy.py`` runs them: the emulator (``flushscope serve --pace
instant``, one 2-second chunk per probe), the sidecar (``flushscope proxy --capture-dir`` into a temporary
folder) and this client. The client opens ``--apps`` connections straight to the emulator and as many
through the sidecar, each with a User-Agent of its own, and keeps them all open. In each round every app
of one path sends a probe at once (a one-shot context answered by a single chunk, as in
``bench/proxy.py``) and waits for its chunk; then the other path does; the order alternates from round to
round, so that whatever else the machine does falls on both alike. Added latency per frame is half the
difference between the proxied and the direct round trip, at the median and at the 99th percentile: with
every app busy at once, the sidecar relays and records ``--apps`` streams while the round trip is measured.
That is the worst case. Then, as apps are busy in use, every app of both paths probes in a loop of its own,
pausing a random 0 to 1 s between probes, all at the same time: probes meet the others' traffic at
random moments.

Last line (the staggered run): ``sidecar added latency with N apps: median X ms, p99 Y ms; proxied/direct median R``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import tempfile
from collections.abc import Iterator
from contextlib import AsyncExitStack, contextmanager
from pathlib import Path

from websockets.asyncio.client import ClientConnection, connect

from proxy import CLIENT_OPTIONS, probe, quantile, start, stop


@contextmanager
def sidecar(directory: Path) -> Iterator[tuple[str, str]]:
    """The emulator and the sidecar in front of it, each in its own process; their URLs."""
    emulator, emulator_url = start(["serve", "--pace", "instant", "--chunk-ms", "2000"])
    try:
        proxy, proxy_url = start(
            ["proxy", "--listen", "127.0.0.1:0", "--upstream", emulator_url, "--capture-dir", str(directory)]
        )
        try:
            yield emulator_url, proxy_url
        finally:
            stop(proxy)
    finally:
        stop(emulator)


async def round_trips(apps: list[ClientConnection], tag: str) -> list[float]:
    """Every app probes at once; each one's round trip to its chunk."""
    return list(await asyncio.gather(*(probe(ws, f"{tag}-{i}") for i, ws in enumerate(apps))))


async def bursts(paths: dict[str, list[ClientConnection]], rounds: int) -> dict[str, list[float]]:
    """Rounds in which every app of one path probes at once, then every app of the other."""
    rtt: dict[str, list[float]] = {name: [] for name in paths}
    for n in range(rounds):
        order = list(paths.items()) if n % 2 == 0 else list(reversed(paths.items()))
        for name, apps in order:
            rtt[name] += await round_trips(apps, f"burst-{name}-{n}")
    return rtt


async def staggered(paths: dict[str, list[ClientConnection]], rounds: int) -> dict[str, list[float]]:
    """Every app of both paths probes in a loop of its own at once, with a random pause of up to a second
    between probes (half a second on average: about what a voice agent's turns ask), so that probes arrive
    at random moments."""
    rtt: dict[str, list[float]] = {name: [] for name in paths}
    pace = random.Random(0)

    async def app(name: str, i: int, ws: ClientConnection) -> None:
        for n in range(rounds):
            await asyncio.sleep(pace.uniform(0.0, 1.0))
            rtt[name].append(await probe(ws, f"stagger-{name}-{i}-{n}"))

    await asyncio.gather(*(app(name, i, ws) for name, apps in paths.items() for i, ws in enumerate(apps)))
    return rtt


async def measure(
    direct_url: str, proxy_url: str, args: argparse.Namespace
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Round trips on both paths: in bursts, then staggered."""
    options = {**CLIENT_OPTIONS, "compression": "deflate"}
    async with AsyncExitStack() as stack:
        paths: dict[str, list[ClientConnection]] = {"direct": [], "proxied": []}
        for i in range(args.apps):
            paths["direct"].append(
                await stack.enter_async_context(connect(direct_url + "/tts/websocket", **options))
            )
            paths["proxied"].append(
                await stack.enter_async_context(
                    connect(proxy_url + "/tts/websocket", user_agent_header=f"bench-app-{i}/1.0", **options)
                )
            )
        # Warm up both paths and the emulator's speech cache.
        await bursts(paths, 3)
        return await bursts(paths, args.rounds), await staggered(paths, args.rounds)


def report(what: str, rtt: dict[str, list[float]], apps: int) -> tuple[float, float, float]:
    """Print both paths' round trips; the added latency at the median and p99, and the ratio of medians."""
    ms = {name: (statistics.median(v) * 1e3, quantile(v, 0.99) * 1e3) for name, v in rtt.items()}
    for name, (median, p99) in ms.items():
        print(
            f"{what}, {name:>8} round trip to its chunk with {apps} apps: median {median:.3f} ms, "
            f"p99 {p99:.3f} ms ({len(rtt[name])} probes)"
        )
    added_median = (ms["proxied"][0] - ms["direct"][0]) / 2
    added_p99 = (ms["proxied"][1] - ms["direct"][1]) / 2
    return added_median, added_p99, ms["proxied"][0] / ms["direct"][0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--apps", type=int, default=20, help="apps connected at once on each path")
    parser.add_argument(
        "--rounds", type=int, default=30, help="rounds of probes (each app probes once a round)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        with sidecar(directory) as (direct_url, proxy_url):
            in_bursts, in_turn = asyncio.run(measure(direct_url, proxy_url, args))
        finished = sorted(p.name for p in directory.iterdir())
    unfinished = [n for n in finished if n.endswith(".part")]
    print(
        f"the sidecar finished {len(finished) - len(unfinished)} captures ({len(unfinished)} left unfinished)"
    )
    burst = report("bursts", in_bursts, args.apps)
    print(
        f"sidecar added latency, all {args.apps} apps probing at the same moment: median {burst[0]:.3f} ms, "
        f"p99 {burst[1]:.3f} ms; proxied/direct median {burst[2]:.2f}"
    )
    added_median, added_p99, ratio = report("staggered", in_turn, args.apps)
    print(
        f"sidecar added latency with {args.apps} apps: median {added_median:.3f} ms, p99 {added_p99:.3f} ms; "
        f"proxied/direct median {ratio:.2f}"
    )


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
