"""Protection of personal information (个人信息保护法, PIPL): field encryption, blind indexes, masking.

* :class:`PersonalDataCipher` encrypts single text fields with AES-256-GCM and computes HMAC-SHA256
  "blind index" hashes so that encrypted columns can still be searched by exact value.
* ``mask_*`` functions produce display forms that never show a whole identifier.
* :func:`scrub_text` masks ID numbers and mobile numbers found in free text, for use in logging.

Everything here is pure and synchronous. Nothing in this module ever puts a key or a plaintext value
into an exception message or ``repr``.

Blob layout (version 1)::

    0x01 | key-id length (1 byte) | key id (ASCII) | nonce (12 bytes) | ciphertext + GCM tag (16 bytes)

The header (version, key-id length and key id) is authenticated as GCM associated data.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import unicodedata
from collections.abc import Mapping
from typing import Final, Literal, overload

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = [
    "DecryptionError",
    "LookupKind",
    "PersonalDataCipher",
    "generate_key",
    "mask_address",
    "mask_id_card",
    "mask_name",
    "mask_phone",
    "normalise_lookup_value",
    "scrub_text",
]

_VERSION: Final = 1
_NONCE_SIZE: Final = 12
_TAG_SIZE: Final = 16
_KEY_SIZE: Final = 32
_MIN_LOOKUP_KEY_SIZE: Final = 32
_KEY_ID_RE: Final = re.compile(r"[A-Za-z0-9_.\-]{1,32}")

LookupKind = Literal["id_card", "uscc", "mobile", "name", "access_code"]
"""Kinds of value that have a blind index. The kind is mixed into the hash (domain separation).
``access_code``: a short secret a person holds (kept only as this keyed hash, compared in constant time)."""

_LOOKUP_KINDS: Final[frozenset[str]] = frozenset({"id_card", "uscc", "mobile", "name", "access_code"})


class DecryptionError(ValueError):
    """A stored blob could not be decrypted: corrupt, tampered with, or encrypted under an unknown key."""


def generate_key() -> str:
    """Return a fresh random 32-byte key as urlsafe-base64 text, for development settings files."""
    return base64.urlsafe_b64encode(os.urandom(_KEY_SIZE)).decode("ascii")


def _decode_key(key: str | bytes, what: str) -> bytes:
    """Decode a key given as urlsafe-base64 text (``str``) or as raw key bytes (``bytes``)."""
    if isinstance(key, bytes):
        return key
    text = "".join(key.split())
    text += "=" * (-len(text) % 4)
    try:
        return base64.b64decode(text, altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{what}不是有效的 urlsafe-base64 文本（key is not valid urlsafe base64）") from None


class PersonalDataCipher:
    """AES-256-GCM field encryption with key rotation, plus an HMAC-SHA256 blind index.

    ``keys`` maps key ids to 32-byte keys; new data is always encrypted under ``primary_key_id`` and the
    key id is stored in each blob, so blobs written under older keys keep decrypting as long as their
    key stays in ``keys``. ``lookup_key`` is a separate secret used only for :meth:`lookup_hash`; it is
    never rotated implicitly (rotating it means recomputing every stored hash).

    Keys may be given as urlsafe-base64 text (as kept in settings) or as raw ``bytes``.
    """

    __slots__ = ("_aeads", "_lookup_key", "_primary_key_id")

    def __init__(self, primary_key_id: str, keys: Mapping[str, str | bytes], lookup_key: str | bytes) -> None:
        if not keys:
            raise ValueError("至少需要配置一个个人信息加密密钥（at least one encryption key is required）")
        aeads: dict[str, AESGCM] = {}
        raw_keys: list[bytes] = []
        for key_id, key in keys.items():
            if _KEY_ID_RE.fullmatch(key_id) is None:
                raise ValueError("密钥编号只能由 1–32 个字母、数字、下划线、点或连字符组成（invalid key id）")
            raw = _decode_key(key, f"密钥 {key_id} ")
            if len(raw) != _KEY_SIZE:
                raise ValueError(
                    f"密钥 {key_id} 长度应为 32 字节，实际为 {len(raw)} 字节（AES-256 key must be 32 bytes）"
                )
            raw_keys.append(raw)
            aeads[key_id] = AESGCM(raw)
        if primary_key_id not in aeads:
            raise ValueError(
                f"主密钥编号 {primary_key_id} 不在已配置的密钥中（primary key id is not among the keys）"
            )
        lookup = _decode_key(lookup_key, "查询索引密钥")
        if len(lookup) < _MIN_LOOKUP_KEY_SIZE:
            raise ValueError("查询索引密钥至少应为 32 字节（lookup key must be at least 32 bytes）")
        if any(hmac.compare_digest(lookup, raw) for raw in raw_keys):
            raise ValueError("查询索引密钥不得与加密密钥相同（lookup key must differ from encryption keys）")
        self._primary_key_id = primary_key_id
        self._aeads = aeads
        self._lookup_key = lookup

    def __repr__(self) -> str:
        return f"PersonalDataCipher(primary_key_id={self._primary_key_id!r}, key_ids={self.key_ids!r})"

    @property
    def primary_key_id(self) -> str:
        return self._primary_key_id

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(sorted(self._aeads))

    # ---------------------------------------------------------------------------------- encryption

    @overload
    def encrypt(self, plaintext: str) -> bytes: ...
    @overload
    def encrypt(self, plaintext: None) -> None: ...
    def encrypt(self, plaintext: str | None) -> bytes | None:
        """Encrypt UTF-8 ``plaintext`` under the primary key with a fresh random nonce; ``None`` → None."""
        if plaintext is None:
            return None
        header = _header(self._primary_key_id)
        nonce = os.urandom(_NONCE_SIZE)
        ciphertext = self._aeads[self._primary_key_id].encrypt(nonce, plaintext.encode("utf-8"), header)
        return header + nonce + ciphertext

    @overload
    def decrypt(self, blob: bytes) -> str: ...
    @overload
    def decrypt(self, blob: None) -> None: ...
    def decrypt(self, blob: bytes | None) -> str | None:
        """Decrypt a blob made by :meth:`encrypt` under any configured key; ``None`` stays ``None``.

        Raises :class:`DecryptionError` if the blob is malformed, was tampered with, or names a key id
        that is not configured.
        """
        if blob is None:
            return None
        key_id, header_length = _parse_header(blob)
        aead = self._aeads.get(key_id)
        if aead is None:
            raise DecryptionError(f"密文使用的密钥 {key_id} 未配置，无法解密（unknown key id）")
        nonce = blob[header_length : header_length + _NONCE_SIZE]
        ciphertext = blob[header_length + _NONCE_SIZE :]
        try:
            plaintext = aead.decrypt(nonce, ciphertext, blob[:header_length])
        except InvalidTag:
            raise DecryptionError("密文校验失败，数据可能已被篡改或损坏（authentication failed）") from None
        try:
            return plaintext.decode("utf-8")
        except UnicodeDecodeError:
            raise DecryptionError("解密结果不是有效的 UTF-8 文本（plaintext is not UTF-8）") from None

    def key_id_of(self, blob: bytes) -> str:
        """Return the key id recorded in a blob (without decrypting it)."""
        return _parse_header(blob)[0]

    def needs_reencryption(self, blob: bytes | None) -> bool:
        """True when ``blob`` was encrypted under a key other than the current primary key."""
        return blob is not None and self.key_id_of(blob) != self._primary_key_id

    # -------------------------------------------------------------------------------- blind index

    def lookup_hash(self, value: str, kind: LookupKind) -> str:
        """Return the hex HMAC-SHA256 blind index of ``value`` for exact-match lookups.

        The value is normalised first (see :func:`normalise_lookup_value`) so that, e.g., an ID number
        typed with a lower-case ``x`` or surrounding spaces finds the stored record. ``kind`` is part of
        the hashed message, so equal strings of different kinds do not collide.
        """
        normalised = normalise_lookup_value(value, kind)
        message = kind.encode("ascii") + b"\x00" + normalised.encode("utf-8")
        return hmac.new(self._lookup_key, message, hashlib.sha256).hexdigest()

    def identity_fingerprint(
        self, *, name: str, id_number: str, phone: str | None = None, address: str | None = None
    ) -> str:
        """The hex HMAC-SHA256 (blind-index key) of an identity's normalised fields, for "is this the same
        identity as last time?" without keeping or decrypting a copy (a bulk replay, issue 19).

        Each field normalised as its blind index (:func:`normalise_lookup_value`; the address NFKC with
        whitespace runs collapsed), an absent one empty; the domain ``identity`` keeps it apart from
        every blind index.
        """
        parts = [
            normalise_lookup_value(name, "name"),
            normalise_lookup_value(id_number, "id_card"),
            normalise_lookup_value(phone, "mobile") if phone and phone.strip() else "",
            " ".join(unicodedata.normalize("NFKC", address).split()) if address else "",
        ]
        message = b"identity\x00" + "\x1f".join(parts).encode("utf-8")
        return hmac.new(self._lookup_key, message, hashlib.sha256).hexdigest()


def _header(key_id: str) -> bytes:
    encoded = key_id.encode("ascii")
    return bytes((_VERSION, len(encoded))) + encoded


def _parse_header(blob: bytes) -> tuple[str, int]:
    """Return ``(key_id, header_length)`` of a blob; raise DecryptionError when it cannot be valid."""
    if len(blob) < 2:
        raise DecryptionError("密文过短，格式无效（blob too short）")
    if blob[0] != _VERSION:
        raise DecryptionError(f"不支持的密文版本 {blob[0]}（unsupported blob version）")
    header_length = 2 + blob[1]
    if len(blob) < header_length + _NONCE_SIZE + _TAG_SIZE:
        raise DecryptionError("密文过短，格式无效（blob too short）")
    try:
        key_id = blob[2:header_length].decode("ascii")
    except UnicodeDecodeError:
        raise DecryptionError("密文中的密钥编号无效（invalid key id in blob）") from None
    if _KEY_ID_RE.fullmatch(key_id) is None:
        raise DecryptionError("密文中的密钥编号无效（invalid key id in blob）")
    return key_id, header_length


def normalise_lookup_value(value: str, kind: LookupKind) -> str:
    """Normalise a value before blind-index hashing.

    All kinds: Unicode NFKC (folds full-width digits and letters typed with Chinese input methods to
    ASCII) and surrounding whitespace stripped. ``id_card`` / ``uscc``: all whitespace removed and
    upper-cased. ``mobile``: whitespace and hyphens removed, a ``+86`` / ``0086`` prefix dropped.
    ``name``: inner whitespace runs collapsed to one space. Raises ValueError for an unknown kind or a
    value that is empty after normalisation.
    """
    if kind not in _LOOKUP_KINDS:
        raise ValueError(f"未知的查询索引类型 {kind!r}（unknown lookup kind）")
    text = unicodedata.normalize("NFKC", value).strip()
    if kind in ("id_card", "uscc"):
        text = "".join(text.split()).upper()
    elif kind == "mobile":
        text = "".join(text.split()).replace("-", "")
        for prefix in ("+86", "0086"):
            if text.startswith(prefix):
                text = text[len(prefix) :]
                break
    else:
        text = " ".join(text.split())
    if not text:
        raise ValueError("用于查询的值不能为空（lookup value is empty）")
    return text


# ------------------------------------------------------------------------------------------- masking


@overload
def mask_id_card(value: str) -> str: ...
@overload
def mask_id_card(value: None) -> None: ...
def mask_id_card(value: str | None) -> str | None:
    """``350203199001011234`` → ``350203********1234``: first 6 and last 4 characters shown.

    Values of 10 characters or fewer are masked completely.
    """
    if value is None:
        return None
    text = value.strip()
    if len(text) <= 10:
        return "*" * len(text)
    return text[:6] + "*" * (len(text) - 10) + text[-4:]


@overload
def mask_phone(value: str) -> str: ...
@overload
def mask_phone(value: None) -> None: ...
def mask_phone(value: str | None) -> str | None:
    """``13812345678`` → ``138****5678``: first 3 and last 4 characters shown.

    Values of 7 characters or fewer are masked completely.
    """
    if value is None:
        return None
    text = value.strip()
    if len(text) <= 7:
        return "*" * len(text)
    return text[:3] + "*" * (len(text) - 7) + text[-4:]


_ADDRESS_VISIBLE: Final = 6


@overload
def mask_address(value: str) -> str: ...
@overload
def mask_address(value: None) -> None: ...
def mask_address(value: str | None) -> str | None:
    """Keep the first 6 characters (roughly province/city/district) and replace the rest by ``****``.

    Never shows more than half of the address, so short addresses keep fewer characters. The ``****``
    is fixed-length so the length of the hidden part is not revealed. An empty string stays empty.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return ""
    return text[: min(_ADDRESS_VISIBLE, len(text) // 2)] + "****"


@overload
def mask_name(value: str) -> str: ...
@overload
def mask_name(value: None) -> None: ...
def mask_name(value: str | None) -> str | None:
    """``张三丰`` → ``张*丰``, ``张三`` → ``张*``, ``欧阳娜娜`` → ``欧**娜``; a one-character name → ``*``."""
    if value is None:
        return None
    text = value.strip()
    if len(text) <= 1:
        return "*" * len(text)
    if len(text) == 2:
        return text[0] + "*"
    return text[0] + "*" * (len(text) - 2) + text[-1]


# ------------------------------------------------------------------------------------------ scrubbing

# ``\d`` deliberately matches every Unicode decimal digit (including full-width ０–９), so digit runs
# typed with a Chinese input method are caught too and "longer digit run" is judged generously.
_SEP: Final = r"[ \-]"
# The check character ends the number: a digit must not be followed by another digit, while an X
# ends the number whatever follows it.
_ID_CHECK: Final = r"(?:\d(?!\d)|[Xx\uFF38\uFF58])"
_MOBILE_HEAD: Final = r"[1\uFF11][3-9\uFF13-\uFF19]\d"
_SCRUB_RE: Final = re.compile(
    r"(?<!\d)(?:"
    rf"(?P<id>\d{{17}}{_ID_CHECK})"
    rf"|(?P<id_grouped>\d{{6}}{_SEP}\d{{8}}{_SEP}\d{{3}}{_ID_CHECK})"
    rf"|(?P<prefix>(?:\+|00)?86{_SEP}?)?"
    rf"(?:(?P<mobile>{_MOBILE_HEAD}\d{{8}})|(?P<mobile_grouped>{_MOBILE_HEAD}{_SEP}\d{{4}}{_SEP}\d{{4}}))(?!\d)"
    r")"
)
_SEP_RE: Final = re.compile(_SEP)
# Every match of _SCRUB_RE starts with a digit or "+" and is made of at least 11 characters of this set
# (digits, the separators, "+", the check character X): it lies inside such a run, and the characters
# just outside the run are not digits, so _SCRUB_RE.sub on the run alone finds exactly the matches it
# finds in the whole text. Scanning for the runs is several times faster than _SCRUB_RE's own scan of a
# text with none (a log line), which tries its alternatives at every position.
_CANDIDATE_RE: Final = re.compile(r"[\d+][\d \-+Xx\uFF38\uFF58]{10,}")


def _scrub_match(match: re.Match[str]) -> str:
    if (id_number := match["id"] or match["id_grouped"]) is not None:
        return mask_id_card(_SEP_RE.sub("", id_number))
    mobile = match["mobile"] or match["mobile_grouped"]
    return (match["prefix"] or "") + mask_phone(_SEP_RE.sub("", mobile))


def scrub_text(text: str) -> str:
    """Mask every 18-character ID number and mainland mobile number found in free text.

    A match must not be part of a longer digit run, so e.g. a 19-digit order number is left alone.
    ID numbers may be written ``350203 19900101 1234``; mobile numbers ``138 1234 5678``,
    ``138-1234-5678`` or with a ``+86`` / ``0086`` / ``86`` prefix. Grouped numbers are replaced by
    their compact masked form. Intended for a logging filter/formatter.
    """
    return _CANDIDATE_RE.sub(_scrub_candidate, text)


def _scrub_candidate(run: re.Match[str]) -> str:
    return _SCRUB_RE.sub(_scrub_match, run.group())
