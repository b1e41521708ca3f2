"""Send flowers to the classifier's API and count the answers per model: the traffic of the walkthrough.

    python send.py [URL] [--count 200] [--seconds 0]

URL defaults to http://127.0.0.1:9000/models/classify (the first command's server). The flowers are
drawn (seeded) around the iris measurements, some of them between two species, where the two
models may disagree. Only the standard library is used.
"""

import argparse
import collections
import json
import random
import time
import urllib.error
import urllib.request

CENTRES = [(5.0, 3.4, 1.5, 0.2), (5.9, 2.8, 4.3, 1.3), (6.6, 3.0, 5.6, 2.0)]   # setosa, versicolor, virginica


def flower(rng: random.Random) -> list[float]:
    a, b = rng.sample(CENTRES, 2)
    mix = rng.random()
    return [round(x * mix + y * (1 - mix) + rng.gauss(0, 0.2), 1) for x, y in zip(a, b, strict=True)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url", nargs="?", default="http://127.0.0.1:9000/models/classify")
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=0, help="spread the calls over this long")
    args = parser.parse_args()
    rng = random.Random(7)
    seen: collections.Counter[str] = collections.Counter()
    start = time.monotonic()
    for n in range(args.count):
        time.sleep(max(0.0, start + n * args.seconds / args.count - time.monotonic()))
        body = json.dumps({"features": flower(rng)}).encode()
        request = urllib.request.Request(args.url, data=body, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                seen[json.loads(response.read())["model"]] += 1
        except urllib.error.HTTPError as e:   # a broken version's call: API Gateway's 502
            seen[f"error {e.code}"] += 1
    print(", ".join(f"{model}: {n}" for model, n in sorted(seen.items())))


if __name__ == "__main__":
    main()
