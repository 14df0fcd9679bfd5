"""Join codes, teacher keys and student tokens: made with `secrets`, stored only as SHA-256 hex.

A join code is read aloud and typed on phones, so its alphabet has no 0/O and no 1/I/L; a key or
token is a bearer secret (whoever holds it is the teacher or the student), so the database keeps
only its hash and comparisons run in constant time.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6
MAX_SECRET_CHARS = 200  # far longer than any key or token we hand out; longer input is not hashed


def new_code() -> str:
    """A 6-character join code, e.g. 'K7QX3M' (31**6, about 887 million codes)."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(text: object) -> str:
    """What a person typed ('k7q-x3m ') as a code ('K7QX3M'); '' for anything that cannot be one."""
    if not isinstance(text, str) or len(text) > 64:
        return ""
    return text.strip().replace(" ", "").replace("-", "").upper()


def new_teacher_key() -> str:
    return secrets.token_urlsafe(24)


def new_student_token() -> str:
    return secrets.token_urlsafe(18)


def digest(secret: str) -> str:
    """SHA-256 hex of a key or token: what the database stores instead of it."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def is_secret_like(secret: object) -> bool:
    """A str short enough to hash; anything else can only be a forged key or token."""
    return isinstance(secret, str) and 0 < len(secret) <= MAX_SECRET_CHARS


def matches(secret: object, stored_hash: str) -> bool:
    """Whether `secret` hashes to `stored_hash`, compared in constant time."""
    return is_secret_like(secret) and hmac.compare_digest(digest(secret), stored_hash)
