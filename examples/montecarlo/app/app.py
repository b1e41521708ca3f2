"""One chunk of a Monte Carlo estimate of pi: `samples` points drawn with its own seed; the answer is
how many fell inside the quarter circle. Seeded chunks give the same total at any concurrency."""

import random


def lambda_handler(event, context):
    rng = random.Random(event["seed"])
    samples = int(event.get("samples", 100_000))
    inside = 0
    for _ in range(samples):
        x, y = rng.random(), rng.random()
        inside += x * x + y * y <= 1.0
    return {"seed": event["seed"], "samples": samples, "inside": inside}
