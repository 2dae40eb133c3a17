"""What the deployed generator takes from a queue message: exactly the JSON `SqsQueue` sends, anything
else poison (named, so the log line says what was wrong)."""

from __future__ import annotations

import json
from dataclasses import asdict

import pytest

from versa.consumer.generator import PoisonMessage, decode
from versa.ports import GenerationRequest

REQUEST = GenerationRequest(
    key="k1", brand="acme", creative="winter-sale", slot="headline", locale="de", brief="A headline",
    constraints={"max_chars": 40}, vary={"country": "dach"}, default="Winter sale",
)


def test_what_the_queue_adapter_sends_round_trips() -> None:
    # GIVEN the body SqsQueue writes for a request, THEN it decodes to the same request
    assert decode(json.dumps(asdict(REQUEST), ensure_ascii=False)) == REQUEST


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ("{not json", "not JSON"),
        ('["a", "list"]', "JSON list"),
        (json.dumps({**asdict(REQUEST), "extra": 1}), "unknown field(s) ['extra']"),
        (json.dumps({k: v for k, v in asdict(REQUEST).items() if k != "key"}), "missing field(s) ['key']"),
        (json.dumps({**asdict(REQUEST), "brand": ""}), "field 'brand' is str ''; expected a non-empty string"),
        (json.dumps({**asdict(REQUEST), "constraints": [1]}), "field 'constraints' is list"),
        (json.dumps({**asdict(REQUEST), "vary": {"seg": 3}}), "field 'vary' must map"),
    ],
)
def test_anything_else_is_poison_and_says_why(body: str, said: str) -> None:
    with pytest.raises(PoisonMessage) as caught:
        decode(body)
    assert said in str(caught.value)
