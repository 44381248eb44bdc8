"""Field encryption (AES-256-GCM with a key id) and keyed blind indexes.

Ciphertext layout: kid (ASCII) + 0x00 + 12-byte nonce + ciphertext||tag. The associated
data names the column, so a value copied into another column does not decrypt.
"""
import hashlib
import hmac
import os

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from flask import current_app


class DecryptionError(Exception):
    pass


def _keys():
    return current_app.config["DATA_KEYS"]


def key_ring():
    """The app's data keys as a hashable value (a cache key of results that depend on them)."""
    return tuple((kid, bytes(key)) for kid, key in _keys())


def current_key_id():
    return _keys()[0][0]


def encrypt(plaintext, context):
    kid, key = _keys()[0]
    if isinstance(plaintext, str):
        plaintext = plaintext.encode()
    nonce = os.urandom(12)
    return kid.encode() + b"\x00" + nonce + AESGCM(key).encrypt(nonce, plaintext, context.encode())


def key_id_of(blob):
    return bytes(blob).split(b"\x00", 1)[0].decode()


def decrypt(blob, context):
    blob = bytes(blob)
    kid, sep, rest = blob.partition(b"\x00")
    keys = dict(_keys())
    key = keys.get(kid.decode(errors="replace"))
    if not sep or key is None or len(rest) < 13:
        raise DecryptionError("unknown key id or malformed value")
    try:
        return AESGCM(key).decrypt(rest[:12], rest[12:], context.encode()).decode()
    except InvalidTag as exc:
        raise DecryptionError("ciphertext failed authentication") from exc


def blind_index(value, purpose):
    """HMAC-SHA256 of a normalised value, separated by purpose so indexes cannot be joined across uses."""
    key = current_app.config["BLIND_INDEX_KEY"]
    return hmac.new(key, f"{purpose}:{value.strip().upper()}".encode(), hashlib.sha256).hexdigest()


def token_hash(token):
    return hashlib.sha256(token.encode()).hexdigest()


# ---------------------------------------------------------------- Ed25519 signatures (entry passes, issue 14)

def _signing_keys():
    return current_app.config["PASS_SIGNING_KEYS"]


def signing_key_id():
    return _signing_keys()[0][0]


def sign(message):
    """(key id, signature) of `message` (bytes) under the first pass-signing key."""
    kid, seed = _signing_keys()[0]
    return kid, Ed25519PrivateKey.from_private_bytes(seed).sign(message)


def public_keys():
    """{key id: raw 32-byte public key} of every configured signing key (old ones still verify)."""
    return {kid: Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
            for kid, seed in _signing_keys()}


def verify(kid, message, signature):
    """True when `signature` is a valid signature of `message` by the listed key `kid`."""
    raw = public_keys().get(kid)
    if raw is None:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(raw).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True
