"""Field encryption (AES-256-GCM with a key id) and keyed blind indexes.

Ciphertext layout: kid (ASCII) + 0x00 + 12-byte nonce + ciphertext||tag. The associated
data names the column, so a value copied into another column does not decrypt.
"""
import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
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
