"""Envelope encryption of secrets (see keyring.py for the key-encryption keys, envelope.py
for how entries' secrets are sealed with each user's data key)."""
