"""Personal data at rest: SM4-GCM encryption and a keyed blind index (HMAC-SM3).

ID numbers and phone numbers are stored as ciphertext beside a blind index, so an exact
lookup ("who has this ID number?") is an indexed equality query without decrypting, and a
masked form for display, so lists never decrypt. The 32-byte master key comes from
GEZHI_DATA_KEY (hex) or is generated into the data dir (`data_key`, mode 0600) on first
use; the encryption and index keys are derived from it with HKDF, so they differ.
SM4 and SM3 are the Chinese national standards (国密) that government systems are assessed for.
"""

from __future__ import annotations

import base64
import functools
import os
import secrets

from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

VERSION = "s1"  # s1 = SM4-GCM, 12-byte nonce, 16-byte tag


class DecryptionError(Exception):
    pass


def _master_key() -> bytes:
    value = os.environ.get("GEZHI_DATA_KEY", "").strip()
    if value:
        key = bytes.fromhex(value)
    else:
        path = settings.DATA_DIR / "data_key"
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
        key = bytes.fromhex(path.read_text().strip())
    if len(key) != 32:
        raise ValueError("GEZHI_DATA_KEY must be 32 bytes (64 hex digits)")
    return key


@functools.cache
def _keys() -> tuple[bytes, bytes]:
    master = _master_key()

    def derive(label: bytes, length: int) -> bytes:
        return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=label).derive(master)

    return derive(b"gezhi sm4 encryption", 16), derive(b"gezhi blind index", 32)


@functools.cache
def _ciphers() -> tuple[algorithms.SM4, hmac.HMAC]:
    """The keyed SM4 algorithm and a keyed HMAC-SM3 to copy: an import encrypts and indexes
    two numbers a row, and setting up the keys each time cost a third of it."""
    encryption, index = _keys()
    return algorithms.SM4(encryption), hmac.HMAC(index, hashes.SM3())


def encrypt(plaintext: str) -> str:
    if plaintext == "":
        return ""
    nonce = os.urandom(12)
    encryptor = Cipher(_ciphers()[0], modes.GCM(nonce)).encryptor()
    body = encryptor.update(plaintext.encode()) + encryptor.finalize()
    return f"{VERSION}:" + base64.b64encode(nonce + body + encryptor.tag).decode()


def decrypt(token: str) -> str:
    if token == "":
        return ""
    version, _, payload = token.partition(":")
    if version != VERSION:
        raise DecryptionError(f"unknown ciphertext version {version!r}")
    raw = base64.b64decode(payload)
    nonce, body, tag = raw[:12], raw[12:-16], raw[-16:]
    try:
        decryptor = Cipher(algorithms.SM4(_keys()[0]), modes.GCM(nonce, tag)).decryptor()
        return (decryptor.update(body) + decryptor.finalize()).decode()
    except Exception as exc:  # InvalidTag: wrong key or tampered data
        raise DecryptionError("ciphertext does not match the data key") from exc


def blind_index(value: str, *, kind: str) -> str:
    """A keyed hash of a normalised value; `kind` separates ID numbers from phones."""
    if value == "":
        return ""
    mac = _ciphers()[1].copy()
    mac.update(kind.encode() + b"\x00" + value.encode())
    return mac.finalize().hex()[:40]


def reset_keys_cache() -> None:
    _keys.cache_clear()
    _ciphers.cache_clear()
