"""Key sets for signed URLs: the local development key, and key sets stored as JSON.

The JSON form is the same for both, so a deployed function can load the value of a parameter store
entry with `keyring_from_json` and a developer can read their local file::

    {"active": "k2", "keys": {"k1": "<standard base64>", "k2": "<standard base64>"}}

Nothing here reads the environment: the caller passes the state directory.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import secrets
import tempfile
from pathlib import Path
from typing import Final

from pydantic import BaseModel, ConfigDict, ValidationError

from versa.signing.signer import MIN_SECRET_BYTES, Keyring

KEYS_FILE: Final = "keys.json"
DEV_KID: Final = "dev1"


class _KeySetDocument(BaseModel):
    """The JSON shape of a key set; secrets still base64 text."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    active: str
    keys: dict[str, str]


def keyring_from_json(text: str | bytes) -> Keyring:
    """Parse a key set document into a Keyring.

    Raises ValueError naming what is wrong (not JSON, missing or extra fields, a secret that is not
    standard base64, too short, a bad key id, an active key that is not in `keys`). Messages never
    contain secret material.
    """
    try:
        doc = _KeySetDocument.model_validate_json(text)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in err['loc']) or 'document'}: {err['msg']}"
            for err in exc.errors(include_input=False, include_url=False)
        )
        raise ValueError(f"key set is invalid: {problems}") from None
    keys: dict[str, bytes] = {}
    for kid, encoded in doc.keys.items():
        try:
            keys[kid] = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError(f"key set is invalid: secret of key {kid!r} is not standard base64") from None
    try:
        return Keyring(keys, doc.active)
    except ValueError as exc:
        raise ValueError(f"key set is invalid: {exc}") from None


def keyring_to_json(keyring: Keyring) -> str:
    """The key set document of `keyring` (secrets in standard base64); `keyring_from_json` inverts it."""
    document = {
        "active": keyring.active_kid,
        "keys": {kid: base64.b64encode(secret).decode("ascii") for kid, secret in keyring.items()},
    }
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def load_or_create_dev_keyring(state_dir: Path) -> Keyring:
    """The development keyring stored in ``state_dir/keys.json``, created on first use.

    A new key (`DEV_KID`, random bytes of `MIN_SECRET_BYTES`) is written to a 0600 temporary file in
    `state_dir` (created 0700 if missing) and linked into place atomically without replacing
    an existing file: when two processes race, both end up with the key that landed first. Later
    calls load that file; a damaged one raises ValueError rather than being replaced, so URLs
    signed with it are never silently invalidated.
    """
    path = state_dir / KEYS_FILE
    try:
        return keyring_from_json(path.read_bytes())
    except FileNotFoundError:
        pass
    state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    keyring = Keyring({DEV_KID: secrets.token_bytes(MIN_SECRET_BYTES)}, DEV_KID)
    fd, tmp_name = tempfile.mkstemp(prefix=".keys-", suffix=".tmp", dir=state_dir)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(keyring_to_json(keyring))
            handle.flush()
            os.fsync(handle.fileno())
        try:
            path.hardlink_to(tmp)
        except FileExistsError:
            return keyring_from_json(path.read_bytes())
        except OSError:
            tmp.replace(path)  # filesystem without hard links: plain atomic rename
    finally:
        tmp.unlink(missing_ok=True)
    return keyring


__all__ = ["DEV_KID", "KEYS_FILE", "keyring_from_json", "keyring_to_json", "load_or_create_dev_keyring"]
