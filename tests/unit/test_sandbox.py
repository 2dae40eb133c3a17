"""The bounded sandbox: ordinary template arithmetic and formatting work; amplifiers are refused."""

from __future__ import annotations

import pytest
from jinja2.exceptions import SecurityError

from versa.pack.sandbox import MAX_BUILT, BoundedSandbox

ENV = BoundedSandbox(autoescape=False)


@pytest.mark.parametrize(("source", "expected"), [
    ("{{ 'ab' * 3 }}|{{ 3 * 'ab' }}|{{ [0] * 2 }}", "ababab|ababab|[0, 0]"),
    ("{{ 6 * 7 }}|{{ 2 ** 10 }}|{{ 7 % 3 }}|{{ 1.5 * 2 }}", "42|1024|1|3.0"),
    ("{{ '%05d' % 42 }}|{{ '%s-%s'|format('a', 'b') }}|{{ '{:>4}'.format(1) }}", "00042|a-b|   1"),
    ("{{ 'x'|center(5) }}|{{ 'x'.ljust(3) }}|{{ 'a\nb'|indent(2) }}", "  x  |x  |a\n  b"),
    ("{{ ('x' * " + str(MAX_BUILT) + ") | length }}", str(MAX_BUILT)),
])
def test_ordinary_templates_render_as_in_jinja(source: str, expected: str) -> None:
    assert ENV.from_string(source).render() == expected


@pytest.mark.parametrize("source", [
    "{{ 'x' * " + str(MAX_BUILT + 1) + " }}",
    "{{ [1, 2] * 10**6 }}",
    "{{ 10**7 * 'x' }}",
    "{{ 2 ** 65 }}",
    "{{ '%0200000d' % 1 }}",
    "{{ '%*d' % (5, 1) }}",
    "{{ '%.200000f'|format(1) }}",
    "{{ '{:0200000}'.format(1) }}",
    "{{ 'x'.zfill(10**6) }}",
    "{{ 'x'|center(10**6) }}",
    "{{ 'x'|indent(10**6) }}",
])
def test_amplifiers_are_refused_before_they_build(source: str) -> None:
    with pytest.raises(SecurityError, match=r"at most|refused|over"):
        ENV.from_string(source).render()


def test_constant_folding_does_not_build_at_compile_time() -> None:
    # GIVEN a template whose only expression is a constant amplifier; WHEN it is compiled (as the
    # pack loader does to list a template's variables) THEN nothing is built, and rendering refuses
    template = ENV.from_string("{{ 'x' * 10**9 }}")
    with pytest.raises(SecurityError):
        template.render()


def test_lipsum_is_gone() -> None:
    assert "lipsum" not in ENV.globals


def test_numbers_in_the_text_of_a_pattern_are_not_widths() -> None:
    # GIVEN patterns whose literal text holds big numbers; THEN they format as in plain Jinja
    assert ENV.from_string("{{ 'Order 1234567890: %s' % 'ok' }}").render() == "Order 1234567890: ok"
    assert ENV.from_string("{{ 'Order 1234567890: {}'.format('ok') }}").render() == "Order 1234567890: ok"


def test_markup_keeps_its_meaning_through_bounded_filters() -> None:
    # GIVEN autoescape; THEN a bounded filter still returns what Jinja's own returns (no double escape)
    env = BoundedSandbox(autoescape=True)
    assert env.from_string("{{ '<b>'|indent(2) }}").render() == "&lt;b&gt;"
    assert env.from_string("{{ ('<b>'|safe)|center(5) }}").render() == " <b> "
