"""Beta posteriors and Thompson sampling: how likely each arm is to be the best, from its counts.

With a uniform Beta(1, 1) prior, an arm with `n` impressions and `c` clicks has the posterior
Beta(1 + c, 1 + n - c) over its click rate. Thompson sampling gives each arm the share of traffic
equal to the probability that it is the best; that probability has no closed form for several arms,
so it is estimated by drawing one rate per arm from its posterior, many times, and counting wins.
The random generator is passed in, so a seeded run is reproducible.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass

from versa.relevance.counters import ArmCounts

PRIOR = (1.0, 1.0)
"""Beta(alpha, beta) before any data: every click rate equally likely."""


@dataclass(frozen=True)
class Beta:
    """A Beta(alpha, beta) distribution over a click rate."""

    alpha: float
    beta: float

    @classmethod
    def posterior(cls, counts: ArmCounts, prior: tuple[float, float] = PRIOR) -> Beta:
        """The posterior after `counts` under `prior`."""
        return cls(prior[0] + counts.clicks, prior[1] + counts.impressions - counts.clicks)

    @property
    def mean(self) -> float:
        return self.alpha / (self.alpha + self.beta)

    @property
    def sd(self) -> float:
        total = self.alpha + self.beta
        return math.sqrt(self.alpha * self.beta / (total * total * (total + 1)))

    def interval(self, mass: float = 0.95, *, draws: int = 4000, rng: random.Random) -> tuple[float, float]:
        """A central credible interval holding `mass` of the posterior, estimated from `draws` samples."""
        if not 0 < mass < 1:
            raise ValueError(f"mass {mass}: allowed 0 < mass < 1")
        sample = sorted(rng.betavariate(self.alpha, self.beta) for _ in range(draws))
        lo = int((1 - mass) / 2 * (draws - 1))
        return sample[lo], sample[draws - 1 - lo]


def prob_best(counts: Mapping[str, ArmCounts], *, draws: int, rng: random.Random) -> dict[str, float]:
    """For each arm, the estimated probability that its click rate is the highest (the values sum to 1).

    Ties in a draw (practically impossible with continuous draws) go to the arm listed first."""
    if not counts:
        raise ValueError("prob_best needs at least one arm")
    if draws < 1:
        raise ValueError(f"draws {draws}: allowed >= 1")
    arms = list(counts)
    posts = [Beta.posterior(counts[arm]) for arm in arms]
    wins = [0] * len(arms)
    betavariate = rng.betavariate
    for _ in range(draws):
        best, best_rate = 0, -1.0
        for i, post in enumerate(posts):
            rate = betavariate(post.alpha, post.beta)
            if rate > best_rate:
                best, best_rate = i, rate
        wins[best] += 1
    return {arm: wins[i] / draws for i, arm in enumerate(arms)}
