"""Seeded random streams: every part of the world draws from a stream of its own.

A world is a pure function of its config because every draw comes from a `random.Random` seeded
with the world's seed plus labels naming what it generates ("orders", store index 3). Separate
streams keep the parts independent: more bank noise does not reshuffle the orders, and a platform
added later, drawing from streams labelled with its own name, does not move the existing facts.
"""

from __future__ import annotations

import random


def stream(seed: int, *labels: object) -> random.Random:
    """An independent, reproducible stream for one part of the world (str seeds are hashed with SHA-512)."""
    return random.Random("|".join(map(str, (seed, *labels))))
