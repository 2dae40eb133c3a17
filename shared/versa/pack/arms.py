"""A rule that learns: arms (alternative `set:` overrides) the relevance loop chooses between.

```yaml
rules:
  - id: headline-test
    when: {device: [mobile]}        # who takes part (as any rule)
    optimize: clicks                # learn from clicks which arm wins
    learn_by: [country]             # ...separately per value of these keyable attributes
    holdout: 0.10                   # 10% of visitor buckets stay uniform across arms, forever
    min_share: 0.02                 # every arm keeps at least 2% of the traffic
    min_sample: 1000                # impressions per arm (and segment) before any arm takes over
    reallocate: 1h                  # how often the optimizer moves traffic
    arms:
      - {id: bold, set: {copy.headline.en: "Last day: 20% off"}}
      - {id: calm, set: {tokens.colors.accent: "#2a9d8f"}}
```

`Rule` takes these fields from `OptimizedRule`; the relevance core (`versa.relevance`) turns them into
a policy and an allocation, and the render path shows the arm `arm_for(snapshot, segment, bucket)`
names. Without `optimize` the fields must be absent, so a rule never half-declares a test.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from versa.pack.setkeys import SetKey, parse_set

LEARNABLE: tuple[str, ...] = ("segment", "country", "device", "daypart")
"""Attributes an optimized rule may learn per: keyable (the CDN caches per value) and coarse enough
that each value gathers a useful sample. `segment` is the creative's declared `segment` parameter."""

BUCKETS = 100
"""Visitor buckets (the relevance core's count; repeated here because the pack sits below it)."""

_PERIOD_RE = re.compile(r"^([1-9][0-9]{0,4})([smhd])$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}
PERIOD_MIN, PERIOD_MAX = 300, 7 * 86400


def parse_period(value: Any) -> int:
    """A reallocation period in seconds from `"15m"`, `"1h"`, `"1d"`, `"90s"` or a number of seconds;
    raises ValueError naming the value and what is allowed (5 minutes to 7 days)."""
    if isinstance(value, bool):
        seconds = None
    elif isinstance(value, int):
        seconds = value
    else:
        match = _PERIOD_RE.match(str(value))
        seconds = int(match[1]) * _UNIT[match[2]] if match else None
    if seconds is None or not PERIOD_MIN <= seconds <= PERIOD_MAX:
        raise ValueError(
            f"reallocate {value!r}: allowed a period from 5m to 7d, written like '15m', '1h', '1d' or in seconds"
        )
    return seconds


class Arm(BaseModel):
    """One alternative: the overrides shown to the visitor buckets the allocation gives this arm."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$", description="Names the arm in counts, clicks and reports.")
    set: dict[str, Any] = Field(default_factory=dict, description="Overrides of this arm (empty: the rule as is).")
    note: str = ""
    _set_keys: tuple[SetKey, ...] = PrivateAttr(default=())

    def model_post_init(self, context: Any, /) -> None:
        self._set_keys = parse_set(self.set)

    @property
    def set_keys(self) -> tuple[SetKey, ...]:
        return self._set_keys


_OPTIMIZE_FIELDS = ("arms", "learn_by", "holdout", "min_share", "min_sample", "reallocate")


class OptimizedRule(BaseModel):
    """The fields that make a rule an optimized one (mixed into `versa.pack.model.Rule`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    optimize: Literal["clicks"] | None = Field(
        default=None, description="Learn which arm wins on this metric and move traffic to it (clicks)."
    )
    arms: list[Arm] = Field(
        default_factory=list, max_length=36, description="Two to 36 alternatives the rule chooses between."
    )
    learn_by: list[str] = Field(
        default_factory=list, description=f"Learn separately per value of these: {', '.join(LEARNABLE)}."
    )
    holdout: float = Field(default=0.10, ge=0, le=0.5, description="Share of buckets kept uniform across arms.")
    min_share: float = Field(default=0.02, ge=0, le=0.5, description="Least share of traffic every arm keeps.")
    min_sample: int = Field(
        default=1000, ge=0, le=10_000_000, description="Impressions per arm and segment before any arm takes over."
    )
    reallocate: Annotated[
        int,
        WithJsonSchema({"anyOf": [{"type": "string", "pattern": _PERIOD_RE.pattern},
                                  {"type": "integer", "minimum": PERIOD_MIN, "maximum": PERIOD_MAX}]}),
    ] = Field(default=3600, description="Time between reallocations: '15m', '1h', '1d' or seconds (5m to 7d).")

    @field_validator("reallocate", mode="before")
    @classmethod
    def _period(cls, value: Any) -> int:
        return parse_period(value)

    @field_validator("learn_by")
    @classmethod
    def _learn_by(cls, attrs: list[str]) -> list[str]:
        for attr in attrs:
            if attr not in LEARNABLE:
                raise ValueError(f"learn_by {attr!r}: allowed {', '.join(LEARNABLE)}")
        if len(set(attrs)) != len(attrs):
            raise ValueError(f"learn_by {attrs}: an attribute repeats")
        return attrs

    @model_validator(mode="after")
    def _arms(self) -> Self:
        if self.optimize is None:
            given = [name for name in _OPTIMIZE_FIELDS if name in self.model_fields_set]
            if given:
                raise ValueError(f"{given[0]} needs optimize: clicks (allowed only on an optimized rule)")
            return self
        ids = [arm.id for arm in self.arms]
        if len(ids) < 2:
            raise ValueError(f"arms: optimize: {self.optimize} needs two or more arms, got {len(ids)}")
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise ValueError(f"arms: id {repeated[0]!r} repeats")
        outside = BUCKETS - round(self.holdout * BUCKETS)
        each = math.ceil(self.min_share * BUCKETS - 1e-9)
        if each * len(ids) > outside:
            raise ValueError(
                f"min_share {self.min_share}: {len(ids)} arms x {each}% exceed the {outside}% outside the holdout; "
                f"allowed min_share <= {outside // len(ids) / BUCKETS}"
            )
        return self
