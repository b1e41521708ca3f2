"""Estimate pi with N seeded chunks fanned out over Lambdalite, and print the estimate, its standard
error and the time; then the guide's literal way (each chunk POSTed to the API's URL from a thread
pool with requests) for comparison. The same seeds give the same estimate at any concurrency.

    .venv/bin/python examples/montecarlo/run.py [--chunks 64] [--samples 100000] [--endpoint URL]
"""

import argparse
import math
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from lambdalite import Client, InvocationError


def estimate(results: list[dict]) -> tuple[float, float]:
    inside = sum(r["inside"] for r in results)
    samples = sum(r["samples"] for r in results)
    p = inside / samples
    return 4 * p, 4 * math.sqrt(p * (1 - p) / samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chunks", type=int, default=64)
    parser.add_argument("--samples", type=int, default=100_000)
    parser.add_argument("--endpoint", default="http://127.0.0.1:9000")
    parser.add_argument("--concurrency", type=int, default=None)
    args = parser.parse_args()
    chunks = [{"seed": seed, "samples": args.samples} for seed in range(args.chunks)]

    with Client(args.endpoint) as client:
        started = time.perf_counter()
        results = client.map("montecarlo-chunk", chunks, concurrency=args.concurrency)
        took = time.perf_counter() - started
        url = next(o["OutputValue"] for o in client.get_stack("montecarlo")["outputs"] if o["OutputKey"] == "ChunkUrl")
    failed = [r for r in results if isinstance(r, InvocationError)]
    if failed:
        raise SystemExit(f"{len(failed)} chunks failed, the first: {failed[0]}")
    pi, error = estimate(results)
    print(f"Client.map:  pi = {pi:.5f} +- {error:.5f} from {args.chunks} chunks x {args.samples} samples "
          f"in {took:.2f} s")

    with requests.Session() as session, ThreadPoolExecutor(8) as pool:   # the guide's way
        started = time.perf_counter()
        answers = list(pool.map(lambda chunk: session.post(url, json=chunk, timeout=120).json(), chunks))
        took = time.perf_counter() - started
    pi_api, _ = estimate(answers)
    print(f"API + requests: pi = {pi_api:.5f} (the same chunks) in {took:.2f} s")


if __name__ == "__main__":
    main()
