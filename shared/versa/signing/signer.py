"""Signed URLs: one canonical form, HMAC-SHA256, key rotation, expiry, scopes and template signatures.

This module is pure: it reads no environment, touches no file and calls no service. Keys arrive as a
`Keyring` built by the caller (see `versa.signing.devkeys` for the local development key and for loading a
deployed key set). The paths it signs are built by `versa.signing.urls` (re-exported here).

The canonical form (`string_to_sign`) is the request path and its query *as decoded by the gateway*,
re-encoded by one fixed RFC 3986 rule, so every raw spelling of the same request signs the same way:

    <path, each segment encoded> "\\n" <name=value pairs, encoded, sorted, joined by "&", minus sig>

A signature adds these query parameters (`RESERVED_PARAMS`; a pack may not declare them):

- ``kid``   key id that signed it (several keys may be live during a rotation);
- ``exp``   optional expiry, unix seconds; the URL is valid strictly before that instant;
- ``scope`` optional scope, compared exactly (``debug`` for the decision endpoint, for instance);
- ``m``     optional comma-joined sorted names of *merge* parameters (template signature);
- ``sig``   base64url (no padding) of HMAC-SHA256(secret, string_to_sign(...)).

Template signature: an email tool cannot compute a per-recipient HMAC, so a URL may be signed as a
template (the visitor id `vid` is always signed so, whether asked or not). Every occurrence of a merge parameter enters the canonical form as ``name=`` (empty value):
its name and how often it appears are covered, its value is free and must be bounded by the pack's
declared type. Everything else (path, fixed parameters, ``m`` itself) is covered with its value.

Bad paths (not absolute, empty, ``.`` or ``..`` segments, NUL, backslash, or an encoded ``/``, at any
depth of percent-decoding) raise `SignatureInvalid`, also from `sign`, so a traversal attempt at
request time is one 403-class error like any other forged URL.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Final, TypeAlias
from urllib.parse import unquote

from versa.errors import (
    SignatureExpired,
    SignatureInvalid,
    SignatureMissing,
    SignatureScopeError,
)
from versa.signing.urls import EXTENSIONS, click_path, creative_path, decision_path

QueryInput: TypeAlias = Mapping[str, str | Sequence[str]] | Iterable[tuple[str, str]] | None
"""A decoded query: API Gateway's (multi-value) query mapping, (name, value) pairs, or None (empty)."""

SIG_PARAM: Final = "sig"
KID_PARAM: Final = "kid"
EXP_PARAM: Final = "exp"
SCOPE_PARAM: Final = "scope"
MERGE_PARAM: Final = "m"
RESERVED_PARAMS: Final = frozenset({SIG_PARAM, KID_PARAM, EXP_PARAM, SCOPE_PARAM, MERGE_PARAM})
"""Query names owned by signing; `sign` refuses a query that already uses one."""
VISITOR_PARAM: Final = "vid"
"""The built-in visitor id (`versa.context.visitor`): always signed as a merge parameter, since the edge
replaces its value by the visitor's bucket before the origin verifies."""

MIN_SECRET_BYTES: Final = 32
KID_PATTERN: Final = re.compile(r"[a-z0-9][a-z0-9-]{0,31}")
SCOPE_PATTERN: Final = re.compile(r"[a-z][a-z0-9-]{0,31}")

_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_ENCODED_BYTE = tuple(chr(b) if b in _UNRESERVED else f"%{b:02X}" for b in range(256))
_SIG_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")  # 32 bytes, base64url, no padding
_EXP_SHAPE = re.compile(r"[0-9]{1,12}")


# --------------------------------------------------------------------------- canonical form


def encode_component(s: str) -> str:
    """Percent-encode `s` by the one fixed rule: UTF-8; ALPHA DIGIT ``-._~`` kept; all else ``%XX``.

    Hex digits are uppercase, so each string has exactly one encoding. Raises ValueError
    (UnicodeEncodeError) for text that is not valid Unicode (lone surrogates).
    """
    return "".join(map(_ENCODED_BYTE.__getitem__, s.encode("utf-8")))


def _pairs(query: QueryInput) -> list[tuple[str, str]]:
    """Flatten any accepted query shape into (name, value) pairs, keeping repeats."""
    if query is None:
        return []
    pairs: list[tuple[str, str]] = []
    if isinstance(query, Mapping):
        for name, values in query.items():
            if isinstance(values, str):
                pairs.append((name, values))
            else:
                pairs.extend((name, value) for value in values)
    else:
        pairs.extend(query)
    for name, value in pairs:
        if not isinstance(name, str) or not isinstance(value, str):
            raise TypeError(f"query names and values must be str, got {name!r}={value!r}")
    return pairs


def _encoded_pairs(
    pairs: Iterable[tuple[str, str]], merge_names: Iterable[str] = ()
) -> list[tuple[str, str]]:
    """Encoded, sorted pairs minus `sig`; merge parameters' values blanked."""
    blank = frozenset(merge_names)
    return sorted(
        (encode_component(name), "" if name in blank else encode_component(value))
        for name, value in pairs
        if name != SIG_PARAM
    )


def canonical_query(query: QueryInput, *, merge_names: Iterable[str] = ()) -> str:
    """The canonical query string of a decoded query.

    Drops every `sig`, encodes names and values with `encode_component`, replaces the value of every
    occurrence of a name in `merge_names` with the empty string, sorts by (encoded name, encoded
    value) and joins ``name=value`` with ``&``. Equal decoded queries give equal strings whatever the
    input shape; different ones give different strings.
    """
    return "&".join(f"{n}={v}" for n, v in _encoded_pairs(_pairs(query), merge_names))


def _fully_decoded(segment: str) -> str:
    """Percent-decode until nothing changes, so ``%252e`` is seen as ``.``."""
    while "%" in segment:
        decoded = unquote(segment)
        if decoded == segment:
            break
        segment = decoded
    return segment


def canonical_path(path: str) -> str:
    """The canonical (encoded) form of a decoded absolute path, segment by segment, ``/`` and ``@`` kept.

    Raises SignatureInvalid for a path that is not absolute, has an empty, ``.`` or ``..`` segment,
    or holds NUL, a backslash or an encoded slash at any depth of percent-decoding.
    """
    if not path.startswith("/"):
        raise SignatureInvalid(f"path must be absolute: {path!r}")
    encoded: list[str] = []
    for segment in path[1:].split("/"):
        plain = _fully_decoded(segment)
        if plain in ("", ".", ".."):
            raise SignatureInvalid(f"path has an empty, '.' or '..' segment: {path!r}")
        if any(ch in plain for ch in ("/", "\\", "\x00")):
            raise SignatureInvalid(f"path segment holds an encoded slash, backslash or NUL: {path!r}")
        try:
            # `@` stays itself in a path (a pchar of RFC 3986): `creative@728x90.png` reads as written.
            encoded.append(encode_component(segment).replace("%40", "@"))
        except UnicodeEncodeError as exc:
            raise SignatureInvalid(f"path is not valid Unicode: {path!r}") from exc
    return "/" + "/".join(encoded)


def string_to_sign(path: str, query: QueryInput, *, merge_names: Iterable[str] = ()) -> str:
    """``canonical_path(path) + "\\n" + canonical_query(query, merge_names=...)``.

    Raises SignatureInvalid for a refused path (see `canonical_path`) and ValueError for text that
    is not valid Unicode in the query.
    """
    return canonical_path(path) + "\n" + canonical_query(query, merge_names=merge_names)


# --------------------------------------------------------------------------- keys


class Keyring(Mapping[str, bytes]):
    """Immutable mapping of key id -> secret, plus the `active_kid` that signs new URLs.

    Every key in the ring verifies; rotate by adding the new key as active, waiting out the old
    URLs' lifetime, then removing the old key. Key ids match `KID_PATTERN`; secrets are bytes of at
    least `MIN_SECRET_BYTES`. The repr never shows a secret.
    """

    __slots__ = ("_active_kid", "_keys")
    _keys: Mapping[str, bytes]
    _active_kid: str

    def __init__(self, keys: Mapping[str, bytes], active_kid: str) -> None:
        if not keys:
            raise ValueError("a keyring needs at least one key")
        for kid, secret in keys.items():
            if not isinstance(kid, str) or not KID_PATTERN.fullmatch(kid):
                raise ValueError(f"key id {kid!r} must match {KID_PATTERN.pattern}")
            if not isinstance(secret, bytes):
                raise TypeError(f"secret of key {kid!r} must be bytes, got {type(secret).__name__}")
            if len(secret) < MIN_SECRET_BYTES:
                raise ValueError(
                    f"secret of key {kid!r} has {len(secret)} bytes; at least {MIN_SECRET_BYTES} needed"
                )
        if active_kid not in keys:
            raise ValueError(f"active key {active_kid!r} is not in the keyring ({', '.join(sorted(keys))})")
        object.__setattr__(self, "_keys", MappingProxyType(dict(keys)))
        object.__setattr__(self, "_active_kid", active_kid)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Keyring is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("Keyring is immutable")

    @property
    def active_kid(self) -> str:
        """The key id `sign` uses."""
        return self._active_kid

    def __getitem__(self, kid: str) -> bytes:
        return self._keys[kid]

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._keys))

    def __len__(self) -> int:
        return len(self._keys)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Keyring):
            return NotImplemented
        return self._active_kid == other._active_kid and dict(self._keys) == dict(other._keys)

    def __repr__(self) -> str:
        return f"Keyring(active_kid={self._active_kid!r}, kids={list(self)!r})"

    def with_key(self, kid: str, secret: bytes, *, activate: bool = False) -> Keyring:
        """A new keyring with `kid` added (or replaced), made active if `activate`."""
        return Keyring({**self._keys, kid: secret}, kid if activate else self._active_kid)

    def without_key(self, kid: str) -> Keyring:
        """A new keyring without `kid`; its URLs stop verifying. The active key cannot be removed."""
        if kid == self._active_kid:
            raise ValueError(f"cannot remove the active key {kid!r}; activate another key first")
        if kid not in self._keys:
            raise KeyError(kid)
        return Keyring({k: v for k, v in self._keys.items() if k != kid}, self._active_kid)


# --------------------------------------------------------------------------- sign / verify


@dataclass(frozen=True)
class SignedInfo:
    """What a verified signature vouches for.

    `covered_names` are the query names whose values the signature covers (every name present except
    `sig` and the merge names, the signing parameters included); `merge_names` are sorted names whose
    values are free; `expires` is UTC or None.
    """

    kid: str
    scope: str | None
    expires: datetime | None
    merge_names: tuple[str, ...]
    covered_names: frozenset[str]


def _mac(secret: bytes, message: str) -> str:
    digest = hmac.new(secret, message.encode("utf-8"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _aware(moment: datetime, what: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be a timezone-aware datetime, got naive {moment!r}")
    return moment


def _checked_merge_names(merge_names: Sequence[str], present: set[str]) -> tuple[str, ...]:
    if isinstance(merge_names, str):
        raise TypeError("merge_names must be a sequence of names, not a str")
    names = tuple(sorted(set(merge_names)))
    for name in names:
        if not name or "," in name:
            raise ValueError(f"merge parameter name {name!r} must be non-empty and hold no comma")
        if name in RESERVED_PARAMS:
            raise ValueError(f"merge parameter name {name!r} is reserved for signing")
        if name not in present:
            raise ValueError(f"merge parameter {name!r} is not in the query; add its placeholder value")
    return names


def _signing_params(
    pairs: list[tuple[str, str]],
    keyring: Keyring,
    scope: str | None,
    expires: datetime | None,
    merge_names: Sequence[str],
) -> tuple[dict[str, str], tuple[str, ...]]:
    """The parameters `sign` adds, without `sig`, and the checked merge names."""
    taken = sorted({name for name, _ in pairs} & RESERVED_PARAMS)
    if taken:
        raise ValueError(f"query already holds reserved signing parameter(s): {', '.join(taken)}")
    merge = _checked_merge_names(merge_names, {name for name, _ in pairs})
    added = {KID_PARAM: keyring.active_kid}
    if expires is not None:
        seconds = int(_aware(expires, "expires").timestamp())
        if seconds < 0:
            raise ValueError(f"expires {expires.isoformat()} is before 1970")
        added[EXP_PARAM] = str(seconds)
    if scope is not None:
        if not SCOPE_PATTERN.fullmatch(scope):
            raise ValueError(f"scope {scope!r} must match {SCOPE_PATTERN.pattern}")
        added[SCOPE_PARAM] = scope
    if merge:
        added[MERGE_PARAM] = ",".join(merge)
    return added, merge


def sign(
    path: str,
    query: QueryInput,
    keyring: Keyring,
    *,
    scope: str | None = None,
    expires: datetime | None = None,
    merge_names: Sequence[str] = (),
) -> dict[str, str]:
    """The query parameters to add to `path?query` so that it verifies with `keyring`.

    Returns `kid`, `sig` and, when asked, `exp` (unix seconds, `expires` truncated; it must be
    timezone-aware), `scope` and `m` (template signature over `merge_names`, each of which must
    already appear in `query` with its placeholder value). Raises ValueError if `query` already uses
    a reserved name or an argument is malformed, SignatureInvalid for a refused path.
    """
    pairs = _pairs(query)
    merge_names = _with_visitor(pairs, merge_names)
    added, merge = _signing_params(pairs, keyring, scope, expires, merge_names)
    message = string_to_sign(path, [*pairs, *added.items()], merge_names=merge)
    added[SIG_PARAM] = _mac(keyring[keyring.active_kid], message)
    return added


def _with_visitor(pairs: list[tuple[str, str]], merge_names: Sequence[str]) -> Sequence[str]:
    """`merge_names`, plus `vid` when the query carries it (its value is never covered)."""
    if isinstance(merge_names, str):
        raise TypeError("merge_names must be a sequence of names, not a str")
    if any(name == VISITOR_PARAM for name, _ in pairs) and VISITOR_PARAM not in merge_names:
        return [*merge_names, VISITOR_PARAM]
    return merge_names


def _single(pairs: list[tuple[str, str]], name: str) -> str | None:
    values = [value for n, value in pairs if n == name]
    if len(values) > 1:
        raise SignatureInvalid(f"query repeats signing parameter {name!r}")
    return values[0] if values else None


def verify(
    path: str,
    query: QueryInput,
    keyring: Keyring,
    *,
    now: datetime,
    required_scope: str | None = None,
) -> SignedInfo:
    """Check the signature of `path?query` (decoded, as the gateway delivers it) and return its terms.

    Raises SignatureMissing when there is no `sig`; SignatureInvalid for anything forged or malformed
    (unknown kid, bad base64, repeated signing parameters, refused path, MAC mismatch, compared with
    `hmac.compare_digest`); then, for a genuine signature only, SignatureScopeError when
    `required_scope` is set and the signature's scope is absent or not exactly equal (None accepts
    any scope, or none), and SignatureExpired when `now` (timezone-aware) is at or after `exp`.
    """
    _aware(now, "now")
    pairs = _pairs(query)
    sig = _single(pairs, SIG_PARAM)
    if sig is None:
        raise SignatureMissing("the URL carries no signature")
    kid = _single(pairs, KID_PARAM)
    exp = _single(pairs, EXP_PARAM)
    scope = _single(pairs, SCOPE_PARAM)
    merge_value = _single(pairs, MERGE_PARAM)
    if not _SIG_SHAPE.fullmatch(sig):
        raise SignatureInvalid("signature is not 43 characters of base64url")
    if kid is None or kid not in keyring:
        raise SignatureInvalid(f"unknown key id {kid!r}")
    merge = tuple(merge_value.split(",")) if merge_value is not None else ()
    try:
        message = string_to_sign(path, pairs, merge_names=merge)
    except UnicodeEncodeError as exc:
        raise SignatureInvalid("query is not valid Unicode") from exc
    expected = _mac(keyring[kid], message)
    if not hmac.compare_digest(expected.encode("ascii"), sig.encode("ascii")):
        raise SignatureInvalid("signature does not match")
    # Genuine from here on: what follows was written by a key holder.
    if exp is not None and not _EXP_SHAPE.fullmatch(exp):
        raise SignatureInvalid(f"signed expiry {exp!r} is not unix seconds")
    expires = datetime.fromtimestamp(int(exp), tz=UTC) if exp is not None else None
    if required_scope is not None and scope != required_scope:
        raise SignatureScopeError(f"signature scope {scope!r} does not grant {required_scope!r}")
    if expires is not None and now >= expires:
        raise SignatureExpired(f"signature expired at {expires.isoformat()}")
    return SignedInfo(
        kid=kid,
        scope=scope,
        expires=expires,
        merge_names=merge,
        covered_names=frozenset(name for name, _ in pairs if name != SIG_PARAM) - frozenset(merge),
    )


def signed_url(
    base_path: str,
    query: QueryInput,
    keyring: Keyring,
    *,
    scope: str | None = None,
    expires: datetime | None = None,
    merge_names: Sequence[str] = (),
) -> str:
    """The canonical signed URL: encoded path, ``?``, every pair encoded and sorted, `sig` included.

    Merge parameters' values (the email tool's placeholders, e.g. ``*|FNAME|*``) are written
    verbatim so the tool can find and replace them; they may not hold ``&`` or ``#``. Keyword
    arguments are those of `sign`.
    """
    pairs = _pairs(query)
    merge_names = _with_visitor(pairs, merge_names)
    added = sign(base_path, pairs, keyring, scope=scope, expires=expires, merge_names=merge_names)
    merge = frozenset(merge_names)
    rendered: list[tuple[str, str, str]] = []
    for name, value in [*pairs, *added.items()]:
        shown = encoded = encode_component(value)
        if name in merge:
            if "&" in value or "#" in value:
                raise ValueError(f"merge placeholder {value!r} of {name!r} may not hold '&' or '#'")
            shown = value
        rendered.append((encode_component(name), encoded, shown))
    rendered.sort()
    return canonical_path(base_path) + "?" + "&".join(f"{n}={shown}" for n, _, shown in rendered)


__all__ = [
    "EXTENSIONS",
    "MIN_SECRET_BYTES",
    "RESERVED_PARAMS",
    "VISITOR_PARAM",
    "Keyring",
    "QueryInput",
    "SignedInfo",
    "canonical_path",
    "canonical_query",
    "click_path",
    "creative_path",
    "decision_path",
    "encode_component",
    "sign",
    "signed_url",
    "string_to_sign",
    "verify",
]
