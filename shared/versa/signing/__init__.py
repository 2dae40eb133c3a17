"""Signed URLs: the canonical form, signer and verifier, URL builders, the local development keyring."""
