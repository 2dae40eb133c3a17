"""The fixed signing keyring of the test suite and of `events/*.json` (never a deployed key).

`events/make_events.py` signs every sample event with it and the functional tests verify with it, so
the committed events stay valid. The secret is public on purpose: it protects nothing.
"""

from __future__ import annotations

from versa.signing.signer import Keyring

TEST_KID = "test1"
TEST_SECRET = b"versa-test-key-not-a-secret-0123456789"
TEST_KEYRING = Keyring({TEST_KID: TEST_SECRET}, TEST_KID)

__all__ = ["TEST_KEYRING", "TEST_KID", "TEST_SECRET"]
