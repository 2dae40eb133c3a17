"""Signed URLs: canonical form, sign/verify, rotation, expiry, scopes, template signatures, dev keys."""

from __future__ import annotations

import ast
import json
import stat
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import versa.signing.signer as signing_module
from versa.errors import (
    ParamError,
    SignatureError,
    SignatureExpired,
    SignatureInvalid,
    SignatureMissing,
    SignatureScopeError,
)
from versa.signing.devkeys import (
    DEV_KID,
    KEYS_FILE,
    keyring_from_json,
    keyring_to_json,
    load_or_create_dev_keyring,
)
from versa.signing.signer import (
    RESERVED_PARAMS,
    Keyring,
    canonical_query,
    click_path,
    creative_path,
    decision_path,
    encode_component,
    sign,
    signed_url,
    string_to_sign,
    verify,
)

SECRET_1 = bytes(range(32))
SECRET_2 = bytes(range(100, 140))
RING = Keyring({"k1": SECRET_1}, "k1")
NOW = datetime(2025, 1, 15, 12, 0, tzinfo=UTC)
PATH = "/v1/acme/winter-sale.png"

# Printable text: letters, marks, numbers, punctuation, symbols, spaces — no controls, no surrogates.
printable = st.characters(categories=["L", "M", "N", "P", "S", "Zs"])
text = st.text(printable, max_size=12)
param_name = st.text(printable, min_size=1, max_size=10).filter(lambda n: n not in RESERVED_PARAMS)
segment = st.text(
    st.characters(categories=["L", "M", "N", "P", "S", "Zs"], exclude_characters="/\\%"),
    min_size=1,
    max_size=10,
).filter(lambda s: s not in (".", ".."))
paths = st.lists(segment, min_size=1, max_size=4).map(lambda segs: "/" + "/".join(segs))
queries = st.lists(st.tuples(param_name, text), max_size=6)


def signed_pairs(
    path: str, pairs: list[tuple[str, str]], ring: Keyring = RING, **kw: object
) -> list[tuple[str, str]]:
    return [*pairs, *sign(path, pairs, ring, **kw).items()]  # type: ignore[arg-type]


# --------------------------------------------------------------------------- encode / canonical


@pytest.mark.parametrize(
    ("raw", "encoded"),
    [
        ("AZaz09-._~", "AZaz09-._~"),
        (" ", "%20"),
        ("+", "%2B"),
        ("/", "%2F"),
        ("?", "%3F"),
        ("&", "%26"),
        ("=", "%3D"),
        ("%", "%25"),
        ("*|FNAME|*", "%2A%7CFNAME%7C%2A"),
        ("é", "%C3%A9"),
        ("日本", "%E6%97%A5%E6%9C%AC"),
        ("😀", "%F0%9F%98%80"),
        ("", ""),
    ],
)
def test_encode_component_uses_one_rfc3986_rule(raw: str, encoded: str) -> None:
    # GIVEN a decoded string / WHEN encoded / THEN only unreserved characters stay, hex is uppercase
    assert encode_component(raw) == encoded


def test_encode_component_refuses_invalid_unicode() -> None:
    # GIVEN a lone surrogate / WHEN encoded / THEN it is a ValueError
    with pytest.raises(ValueError):
        encode_component("\ud800")


@pytest.mark.parametrize(
    "raw_query",
    [
        "name=J%C3%BCrgen%20M&q=a%2Bb%26c%3Dd&z=%2F%3F%25",
        "z=%2f%3f%25&name=J%c3%bcrgen+M&q=a%2bb%26c%3dd",
        "q=a%2Bb%26c%3Dd&z=/?%25&name=Jürgen%20M",
    ],
)
def test_raw_spellings_of_one_query_share_a_canonical_form(raw_query: str) -> None:
    # GIVEN different raw encodings of the same decoded query, decoded as the gateway would
    decoded = parse_qsl(raw_query, keep_blank_values=True)
    # WHEN canonicalized
    canonical = canonical_query(decoded)
    # THEN they are byte-identical
    assert canonical == "name=J%C3%BCrgen%20M&q=a%2Bb%26c%3Dd&z=%2F%3F%25"


def test_query_shapes_agree_and_multi_values_sort() -> None:
    # GIVEN one query as pairs, as a multi-value mapping, and the single-value mapping part
    pairs = [("tag", "b"), ("tag", "a"), ("x", "1"), ("sig", "dropped")]
    multi = {"tag": ["b", "a"], "x": ["1"], "sig": ["dropped"]}
    mixed = {"tag": ("a", "b"), "x": "1"}
    # WHEN canonicalized
    forms = {canonical_query(pairs), canonical_query(multi), canonical_query(mixed)}
    # THEN all agree: sig dropped, repeats kept, sorted by value within a name
    assert forms == {"tag=a&tag=b&x=1"}
    assert canonical_query(None) == canonical_query({}) == ""


def test_canonical_query_sorts_by_encoded_name_then_encoded_value() -> None:
    # GIVEN names and values whose raw and encoded orders differ
    pairs = [("a", "b"), ("B", "x"), ("a", " "), ("é", "1"), ("a", "")]
    # WHEN canonicalized / THEN byte order of the encoded forms decides
    assert canonical_query(pairs) == "%C3%A9=1&B=x&a=&a=%20&a=b"


def test_canonical_query_blanks_merge_values() -> None:
    # GIVEN a query with a merge parameter / WHEN canonicalized as a template
    canonical = canonical_query({"first_name": "*|FNAME|*", "lang": "de"}, merge_names=["first_name"])
    # THEN the merge name stays with an empty value; the fixed value is kept
    assert canonical == "first_name=&lang=de"


def test_string_to_sign_encodes_the_path_segment_by_segment() -> None:
    # GIVEN a decoded path with a space and unicode / WHEN building the string to sign
    message = string_to_sign("/v1/acme/café sale.png", {"a": "1"})
    # THEN each segment is encoded, '/' kept, then a newline and the canonical query
    assert message == "/v1/acme/caf%C3%A9%20sale.png\na=1"


@pytest.mark.parametrize(
    "path",
    [
        "/v1/../secret.png",
        "/v1/acme/..",
        "/v1/./acme/x.png",
        "/v1/%2e%2e/x.png",
        "/v1/%2E%2e/x.png",
        "/v1/%252e%252e/x.png",
        "/v1/acme%2Fother/x.png",
        "/v1/acme%252fother/x.png",
        "/v1/acme\\..\\x.png",
        "/v1/acme/x\x00.png",
        "/v1/acme/x%00.png",
        "/v1//x.png",
        "/v1/acme/",
        "v1/acme/x.png",
        "",
    ],
)
def test_traversal_and_ambiguous_paths_are_refused(path: str) -> None:
    # GIVEN a path with traversal, encoded slash, NUL or an ambiguous shape
    # WHEN signing or verifying it / THEN SignatureInvalid, both ways
    with pytest.raises(SignatureInvalid):
        sign(path, {}, RING)
    with pytest.raises(SignatureInvalid):
        verify(path, {"kid": "k1", "sig": "A" * 43}, RING, now=NOW)


# --------------------------------------------------------------------------- keyring


def test_keyring_validates_ids_and_secret_length() -> None:
    # GIVEN bad key sets / WHEN building keyrings / THEN clear errors
    with pytest.raises(ValueError, match="at least 32"):
        Keyring({"k1": b"short"}, "k1")
    with pytest.raises(ValueError, match="key id"):
        Keyring({"Bad Kid": SECRET_1}, "Bad Kid")
    with pytest.raises(ValueError, match="not in the keyring"):
        Keyring({"k1": SECRET_1}, "k2")
    with pytest.raises(ValueError, match="at least one"):
        Keyring({}, "k1")
    with pytest.raises(TypeError):
        Keyring({"k1": "a" * 40}, "k1")  # type: ignore[dict-item]


def test_keyring_is_immutable_and_does_not_show_secrets() -> None:
    # GIVEN a keyring built from a dict that is changed afterwards
    source = {"k1": SECRET_1}
    ring = Keyring(source, "k1")
    source["k2"] = SECRET_2
    # WHEN inspecting it / THEN it is unchanged, unassignable, and its repr hides secrets
    assert list(ring) == ["k1"]
    with pytest.raises(AttributeError):
        ring.active_kid = "k2"  # type: ignore[misc]
    assert SECRET_1.hex() not in repr(ring) and repr(SECRET_1) not in repr(ring)
    assert "k1" in repr(ring)


# --------------------------------------------------------------------------- sign / verify


@settings(max_examples=200)
@given(path=paths, pairs=queries)
def test_sign_then_verify_round_trips(path: str, pairs: list[tuple[str, str]]) -> None:
    # GIVEN any path and query of printable unicode / WHEN signed
    query = signed_pairs(path, pairs)
    # THEN it verifies, in any order, and every non-sig name is covered
    info = verify(path, list(reversed(query)), RING, now=NOW)
    assert info.kid == "k1" and info.scope is None and info.expires is None
    assert info.covered_names == {name for name, _ in pairs} | {"kid"}


def _mutate(s: str, position: int, op: str, char: str) -> str:
    if op == "delete" and s:
        i = position % len(s)
        return s[:i] + s[i + 1 :]
    i = position % (len(s) + 1)
    if op == "swapcase" and i < len(s):  # the change a case-folding canonicalization would miss
        return s[:i] + s[i].swapcase() + s[i + 1 :]
    if op == "replace" and i < len(s):
        return s[:i] + char + s[i + 1 :]
    return s[:i] + char + s[i:]


@settings(max_examples=300, suppress_health_check=[HealthCheck.filter_too_much])
@given(
    path=paths,
    pairs=queries,
    target=st.integers(min_value=0),
    field=st.sampled_from(["name", "value"]),
    position=st.integers(min_value=0),
    op=st.sampled_from(["replace", "insert", "delete", "swapcase"]),
    char=st.characters(categories=["L", "N", "P", "S", "Zs"]),
)
def test_any_one_character_change_breaks_the_signature(
    path: str,
    pairs: list[tuple[str, str]],
    target: int,
    field: str,
    position: int,
    op: str,
    char: str,
) -> None:
    # GIVEN a signed URL (with expiry and scope, so every signing parameter is in play)
    query = signed_pairs(path, pairs, scope="debug", expires=NOW + timedelta(hours=1))
    # WHEN one character of the path or of one query name/value (signing parameters included) changes
    index = target % (len(query) + 1)
    if index == len(query):
        new_path, new_query = _mutate(path, position, op, char), query
    else:
        name, value = query[index]
        if field == "name":
            name = _mutate(name, position, op, char)
        else:
            value = _mutate(value, position, op, char)
        new_path, new_query = path, [*query[:index], (name, value), *query[index + 1 :]]
    assume((new_path, new_query) != (path, query))
    # THEN verification fails as forged (never as expired or out of scope)
    with pytest.raises((SignatureInvalid, SignatureMissing)):
        verify(new_path, new_query, RING, now=NOW, required_scope="debug")


def test_a_request_without_sig_is_missing_and_bad_shapes_are_invalid() -> None:
    # GIVEN a genuine signature
    good = sign(PATH, {"a": "1"}, RING)
    # WHEN sig is absent, malformed, repeated, or kid is absent / THEN Missing vs Invalid
    with pytest.raises(SignatureMissing):
        verify(PATH, {"a": "1", "kid": "k1"}, RING, now=NOW)
    for broken in (
        {**good, "sig": good["sig"] + "="},
        {**good, "sig": good["sig"][:-1] + "!"},
        {**good, "sig": good["sig"][:-1]},
        {key: value for key, value in good.items() if key != "kid"},
    ):
        with pytest.raises(SignatureInvalid):
            verify(PATH, {"a": "1", **broken}, RING, now=NOW)
    with pytest.raises(SignatureInvalid):
        verify(PATH, {"a": "1", **good, "sig": [good["sig"], good["sig"]]}, RING, now=NOW)


def test_sign_refuses_reserved_names_and_naive_datetimes() -> None:
    # GIVEN queries that already use signing names, and naive datetimes / WHEN signing / THEN ValueError
    for name in sorted(RESERVED_PARAMS):
        with pytest.raises(ValueError, match="reserved"):
            sign(PATH, {name: "x"}, RING)
    with pytest.raises(ValueError, match="timezone-aware"):
        sign(PATH, {}, RING, expires=datetime(2030, 1, 1))
    with pytest.raises(ValueError, match="timezone-aware"):
        verify(PATH, signed_pairs(PATH, []), RING, now=datetime(2030, 1, 1))
    with pytest.raises(ValueError, match="scope"):
        sign(PATH, {}, RING, scope="Not A Scope")


def test_expiry_is_its_own_error_and_only_for_genuine_signatures() -> None:
    # GIVEN a URL valid until 13:00
    expires = datetime(2025, 1, 15, 13, 0, tzinfo=UTC)
    query = signed_pairs(PATH, [("a", "1")], expires=expires)
    # WHEN verified before, at and after expiry, and with a tampered exp
    info = verify(PATH, query, RING, now=expires - timedelta(seconds=1))
    with pytest.raises(SignatureExpired) as at_expiry:
        verify(PATH, query, RING, now=expires)
    with pytest.raises(SignatureExpired):
        verify(PATH, query, RING, now=expires + timedelta(days=1))
    later = [(n, str(int(v) + 3600) if n == "exp" else v) for n, v in query]
    # THEN before: valid with its expiry; at/after: expired (410 class); tampered: invalid (403 class)
    assert info.expires == expires
    assert not isinstance(at_expiry.value, SignatureInvalid)
    with pytest.raises(SignatureInvalid):
        verify(PATH, later, RING, now=expires + timedelta(minutes=30))


def test_expiry_in_another_zone_is_the_same_instant() -> None:
    # GIVEN an expiry given in UTC+1
    expires = datetime(2025, 1, 15, 14, 0, tzinfo=timezone(timedelta(hours=1)))
    query = signed_pairs(PATH, [], expires=expires)
    # WHEN verified in UTC just before and at that instant / THEN valid, then expired
    assert verify(PATH, query, RING, now=datetime(2025, 1, 15, 12, 59, 59, tzinfo=UTC)).expires == expires
    with pytest.raises(SignatureExpired):
        verify(PATH, query, RING, now=datetime(2025, 1, 15, 13, 0, tzinfo=UTC))


def test_scopes_are_exact_and_none_accepts_any() -> None:
    # GIVEN a debug-scoped and an unscoped signature of the decision path
    path = decision_path("acme", "winter-sale")
    debug = signed_pairs(path, [], scope="debug")
    plain = signed_pairs(path, [])
    # WHEN verified with various required scopes / THEN exact match only; None accepts both
    assert verify(path, debug, RING, now=NOW, required_scope="debug").scope == "debug"
    assert verify(path, debug, RING, now=NOW).scope == "debug"
    assert verify(path, plain, RING, now=NOW).scope is None
    with pytest.raises(SignatureScopeError):
        verify(path, debug, RING, now=NOW, required_scope="preview")
    with pytest.raises(SignatureScopeError):
        verify(path, plain, RING, now=NOW, required_scope="debug")
    # AND a scope added or changed by hand is a forgery, not a scope error
    with pytest.raises(SignatureInvalid):
        verify(path, [*plain, ("scope", "debug")], RING, now=NOW, required_scope="debug")


def test_a_signature_does_not_carry_over_to_another_path() -> None:
    # GIVEN a signature for the image / WHEN presented on the decision path / THEN invalid
    query = signed_pairs(creative_path("acme", "winter-sale", "png"), [], scope="debug")
    with pytest.raises(SignatureInvalid):
        verify(decision_path("acme", "winter-sale"), query, RING, now=NOW, required_scope="debug")


def test_key_rotation() -> None:
    # GIVEN a URL signed with k1, then a ring where k2 is active and k1 still live
    old_url = signed_pairs(PATH, [("a", "1")], Keyring({"k1": SECRET_1}, "k1"))
    rotated = RING.with_key("k2", SECRET_2, activate=True)
    new_url = signed_pairs(PATH, [("a", "1")], rotated)
    # WHEN verifying / THEN both verify; new URLs name k2
    assert verify(PATH, old_url, rotated, now=NOW).kid == "k1"
    assert verify(PATH, new_url, rotated, now=NOW).kid == "k2"
    # AND once k1 is removed, its URLs are invalid while k2's still verify
    retired = rotated.without_key("k1")
    with pytest.raises(SignatureInvalid):
        verify(PATH, old_url, retired, now=NOW)
    assert verify(PATH, new_url, retired, now=NOW).kid == "k2"
    # AND the active key cannot be removed; a kid with another secret does not verify
    with pytest.raises(ValueError, match="active"):
        retired.without_key("k2")
    with pytest.raises(SignatureInvalid):
        verify(PATH, old_url, Keyring({"k1": SECRET_2}, "k1"), now=NOW)


# --------------------------------------------------------------------------- template signatures

TEMPLATE = [("first_name", "*|FNAME|*"), ("city", "*|CITY|*"), ("lang", "de"), ("seg", "vip")]


def _template() -> list[tuple[str, str]]:
    return signed_pairs(PATH, TEMPLATE, merge_names=["first_name", "city"])


@given(first=text, city=text)
def test_template_merge_values_are_free(first: str, city: str) -> None:
    # GIVEN a template-signed URL / WHEN the email tool fills in any merge values
    filled = [(n, first if n == "first_name" else city if n == "city" else v) for n, v in _template()]
    info = verify(PATH, filled, RING, now=NOW)
    # THEN it verifies; fixed parameters are covered with values, merge ones by name only
    assert info.merge_names == ("city", "first_name")
    assert info.covered_names == {"lang", "seg", "kid", "m"}


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda q: [(n, "en" if n == "lang" else v) for n, v in q], id="fixed-value"),
        pytest.param(lambda q: [p for p in q if p[0] != "city"], id="drop-merge-param"),
        pytest.param(lambda q: [*q, ("city", "Berlin")], id="repeat-merge-param"),
        pytest.param(lambda q: [*q, ("last_name", "x")], id="add-param"),
        pytest.param(
            lambda q: [(n, "city,first_name,lang" if n == "m" else v) for n, v in q], id="add-merge-name"
        ),
        pytest.param(lambda q: [(n, "first_name" if n == "m" else v) for n, v in q], id="drop-merge-name"),
        pytest.param(lambda q: [p for p in q if p[0] != "m"], id="drop-m"),
    ],
)
def test_template_covers_fixed_values_and_merge_names(tamper: object) -> None:
    # GIVEN a template-signed URL / WHEN a fixed value or the set of merge names changes
    query = tamper(_template())  # type: ignore[operator]
    # THEN it is invalid
    with pytest.raises(SignatureInvalid):
        verify(PATH, query, RING, now=NOW)


def test_template_merge_names_must_be_in_the_query_and_not_reserved() -> None:
    # GIVEN merge names absent from the query, reserved, or with a comma / WHEN signing / THEN ValueError
    with pytest.raises(ValueError, match="not in the query"):
        sign(PATH, TEMPLATE, RING, merge_names=["zip"])
    with pytest.raises(ValueError, match="reserved"):
        sign(PATH, TEMPLATE, RING, merge_names=["kid"])
    with pytest.raises(ValueError, match="comma"):
        sign(PATH, [*TEMPLATE, ("a,b", "x")], RING, merge_names=["a,b"])


# --------------------------------------------------------------------------- signed_url / paths


@settings(max_examples=100)
@given(pairs=queries)
def test_signed_url_is_canonical_and_verifies_after_decoding(pairs: list[tuple[str, str]]) -> None:
    # GIVEN a signed URL for any query
    url = signed_url(PATH, pairs, RING, scope="debug")
    # WHEN a client sends it and the gateway decodes it
    parts = urlsplit(url)
    decoded = parse_qsl(parts.query, keep_blank_values=True)
    # THEN it verifies, and its query is sorted and fully encoded
    assert verify(unquote(parts.path), decoded, RING, now=NOW, required_scope="debug").scope == "debug"
    pieces = [tuple(piece.split("=", 1)) for piece in parts.query.split("&")]
    assert pieces == sorted(pieces)
    assert parts.query == "&".join(
        f"{encode_component(n)}={encode_component(v)}"
        for n, v in sorted(decoded, key=lambda p: (encode_component(p[0]), encode_component(p[1])))
    )


def test_signed_url_orders_pairs_and_keeps_merge_placeholders_verbatim() -> None:
    # GIVEN a template for an email tool
    url = signed_url(PATH, TEMPLATE, RING, merge_names=["first_name", "city"])
    # WHEN the tool substitutes its placeholders (URL-encoding the values)
    filled = url.replace("*|FNAME|*", "J%C3%BCrgen").replace("*|CITY|*", "S%C3%A3o%20Paulo")
    decoded = parse_qsl(urlsplit(filled).query, keep_blank_values=True)
    # THEN the placeholders were findable, the pairs sorted, and the filled URL verifies
    assert "first_name=*|FNAME|*" in url and "city=*|CITY|*" in url
    names = [n for n, _ in parse_qsl(urlsplit(url).query)]
    assert names == sorted(names)
    assert verify(PATH, decoded, RING, now=NOW).merge_names == ("city", "first_name")
    with pytest.raises(ValueError, match="may not hold"):
        signed_url(PATH, [("first_name", "a&b")], RING, merge_names=["first_name"])


def test_path_builders_validate_and_name_the_bad_field() -> None:
    # GIVEN valid names / WHEN building paths / THEN the documented shapes
    assert creative_path("acme", "winter-sale", "png") == "/v1/acme/winter-sale.png"
    assert decision_path("acme", "winter-sale") == "/v1/acme/winter-sale/decision"
    assert click_path("acme", "winter-sale") == "/v1/acme/winter-sale/click"
    # AND bad ones raise ParamError naming the field and what is allowed
    for args, field in [
        (("Acme", "x", "png"), "brand"),
        (("acme", "-x", "png"), "creative"),
        (("acme", "../x", "png"), "creative"),
        (("acme", "x" * 64, "png"), "creative"),
        (("acme", "x", "svg"), "ext"),
    ]:
        with pytest.raises(ParamError) as caught:
            creative_path(*args)
        assert caught.value.name == field and caught.value.allowed
    with pytest.raises(ParamError):
        click_path("acme/evil", "x")


def test_signing_module_is_pure() -> None:
    # GIVEN the signing module's source / WHEN listing its imports
    tree = ast.parse(Path(signing_module.__file__).read_text(encoding="utf-8"))
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {
        node.module.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module
    }
    # THEN no environment, filesystem or AWS access is possible
    assert not imported & {"os", "pathlib", "boto3", "botocore", "io", "shutil", "tempfile"}


def test_every_failure_is_a_signature_error() -> None:
    # GIVEN the error classes verify raises / THEN all share the SignatureError base (mapped once)
    for cls in (SignatureMissing, SignatureInvalid, SignatureExpired, SignatureScopeError):
        assert issubclass(cls, SignatureError)


# --------------------------------------------------------------------------- dev keys


def test_dev_keyring_is_created_once_with_0600_and_reloaded(tmp_path: Path) -> None:
    # GIVEN a state directory that does not exist yet
    state = tmp_path / "state" / "versa"
    # WHEN the dev keyring is loaded twice
    first = load_or_create_dev_keyring(state)
    second = load_or_create_dev_keyring(state)
    # THEN the file was created 0600 with one dev key, no temp file left, and both loads agree
    key_file = state / KEYS_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert sorted(p.name for p in state.iterdir()) == [KEYS_FILE]
    assert first == second and first.active_kid == DEV_KID and len(first[DEV_KID]) == 32
    assert json.loads(key_file.read_text(encoding="utf-8"))["active"] == DEV_KID
    # AND URLs signed by one load verify with the other
    assert verify(PATH, signed_pairs(PATH, [], first), second, now=NOW).kid == DEV_KID


def test_dev_keyring_keeps_an_existing_file_and_refuses_a_damaged_one(tmp_path: Path) -> None:
    # GIVEN a key file written by someone else, and a damaged one
    ring = Keyring({"k1": SECRET_1, "k2": SECRET_2}, "k2")
    (tmp_path / KEYS_FILE).write_text(keyring_to_json(ring), encoding="utf-8")
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    (damaged / KEYS_FILE).write_text("{not json", encoding="utf-8")
    # WHEN loading / THEN the existing one is used as is; the damaged one is an error, not replaced
    assert load_or_create_dev_keyring(tmp_path) == ring
    with pytest.raises(ValueError, match="key set is invalid"):
        load_or_create_dev_keyring(damaged)
    assert (damaged / KEYS_FILE).read_text(encoding="utf-8") == "{not json"


def test_keyring_from_json_round_trips_a_rotation_set() -> None:
    # GIVEN a deployed key set document / WHEN parsed / THEN the keyring it describes
    ring = Keyring({"k1": SECRET_1, "k2": SECRET_2}, "k2")
    assert keyring_from_json(keyring_to_json(ring)) == ring


@pytest.mark.parametrize(
    ("document", "complaint"),
    [
        ("{not json", "Invalid JSON"),
        ("[]", "object"),
        ('{"keys": {}}', "active"),
        ('{"active": "k1"}', "keys"),
        ('{"active": "k1", "keys": {"k1": 5}}', "keys.k1"),
        ('{"active": "k1", "keys": {"k1": "%%%"}}', "not standard base64"),
        ('{"active": "k1", "keys": {"k1": "c2hvcnQ="}}', "at least 32"),
        ('{"active": "k9", "keys": {"k1": "' + "A" * 44 + '"}}', "not in the keyring"),
        ('{"active": "K 1", "keys": {"K 1": "' + "A" * 44 + '"}}', "key id"),
        ('{"active": "k1", "keys": {"k1": "' + "A" * 44 + '"}, "extra": 1}', "extra"),
        ('{"active": "k1", "keys": {}}', "at least one"),
    ],
)
def test_keyring_from_json_names_what_is_wrong(document: str, complaint: str) -> None:
    # GIVEN a broken key set document / WHEN parsed / THEN a ValueError naming the problem
    with pytest.raises(ValueError, match=complaint) as caught:
        keyring_from_json(document)
    # AND no secret material is echoed
    assert "A" * 44 not in str(caught.value) and "c2hvcnQ" not in str(caught.value)
