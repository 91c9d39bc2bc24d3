from __future__ import annotations

import base64
import hashlib
import hmac
import random

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from libs.common import personal_data
from libs.common.personal_data import (
    DecryptionError,
    LookupKind,
    PersonalDataCipher,
    generate_key,
    mask_address,
    mask_id_card,
    mask_name,
    mask_phone,
    normalise_lookup_value,
    scrub_text,
)

# Fixed test keys (never used outside tests).
_KEY_1 = base64.urlsafe_b64encode(bytes(range(32))).decode("ascii")
_KEY_2 = base64.urlsafe_b64encode(bytes(range(100, 132))).decode("ascii")
_LOOKUP_KEY = base64.urlsafe_b64encode(bytes(range(200, 232))).decode("ascii")


def _cipher(primary: str = "k1", keys: dict[str, str | bytes] | None = None) -> PersonalDataCipher:
    return PersonalDataCipher(primary, keys if keys is not None else {"k1": _KEY_1}, _LOOKUP_KEY)


# ------------------------------------------------------------------------------------------ encryption


@pytest.mark.parametrize(
    "plaintext",
    [
        "",
        "张三丰",
        "350203199001011234",
        "福建省福州市鼓楼区五四路100号 3栋 501",
        "emoji 👵🏻 ok",
        "x" * 5000,
    ],
)
def test_encrypt_decrypt_round_trip(plaintext: str) -> None:
    cipher = _cipher()
    blob = cipher.encrypt(plaintext)
    assert isinstance(blob, bytes)
    assert plaintext.encode("utf-8") not in blob or plaintext == ""
    assert cipher.decrypt(blob) == plaintext


def test_none_passes_through() -> None:
    cipher = _cipher()
    assert cipher.encrypt(None) is None
    assert cipher.decrypt(None) is None
    assert cipher.needs_reencryption(None) is False


def test_blob_layout_and_random_nonce() -> None:
    cipher = _cipher()
    first = cipher.encrypt("张三")
    second = cipher.encrypt("张三")
    assert first != second  # fresh nonce each time
    assert first[0] == 1  # version byte
    assert first[1:4] == b"\x02k1"  # key id, length-prefixed
    assert len(first) == 1 + 1 + 2 + 12 + len("张三".encode()) + 16
    assert cipher.key_id_of(first) == "k1"


def test_decrypts_blob_built_independently() -> None:
    # Pins the storage format: a blob assembled with AESGCM directly must decrypt.
    header = b"\x01\x02k1"
    nonce = bytes(12)
    blob = header + nonce + AESGCM(base64.urlsafe_b64decode(_KEY_1)).encrypt(nonce, "李四".encode(), header)
    assert _cipher().decrypt(blob) == "李四"


def _tamper_positions() -> list[int]:
    blob_length = 1 + 1 + 2 + 12 + len(b"secret") + 16
    # version, key-id length, key id, nonce, ciphertext, tag
    return [0, 1, 2, 3, 4, 10, 15, 16, 18, 21, blob_length - 16, blob_length - 1]


@pytest.mark.parametrize("position", _tamper_positions())
def test_tampering_is_detected(position: int) -> None:
    cipher = _cipher()
    blob = bytearray(cipher.encrypt("secret"))
    blob[position] ^= 0x01
    with pytest.raises(DecryptionError):
        cipher.decrypt(bytes(blob))


@pytest.mark.parametrize("cut", [0, 1, 2, 4, 16, 20])
def test_truncated_blob_is_rejected(cut: int) -> None:
    cipher = _cipher()
    blob = cipher.encrypt("secret")
    with pytest.raises(DecryptionError):
        cipher.decrypt(blob[:cut])


def test_appended_bytes_are_rejected() -> None:
    cipher = _cipher()
    with pytest.raises(DecryptionError):
        cipher.decrypt(cipher.encrypt("secret") + b"\x00")


def test_decryption_error_is_a_value_error_and_does_not_leak() -> None:
    cipher = _cipher()
    blob = bytearray(cipher.encrypt("350203199001011234"))
    blob[-1] ^= 0xFF
    with pytest.raises(ValueError, match="篡改") as info:
        cipher.decrypt(bytes(blob))
    assert "350203" not in str(info.value)


def test_wrong_key_under_same_id_is_detected() -> None:
    blob = _cipher().encrypt("secret")
    other = _cipher(keys={"k1": _KEY_2})
    with pytest.raises(DecryptionError, match="篡改"):
        other.decrypt(blob)


def test_key_rotation() -> None:
    old_cipher = _cipher("k1", {"k1": _KEY_1})
    old_blob = old_cipher.encrypt("王五")

    rotated = _cipher("k2", {"k1": _KEY_1, "k2": _KEY_2})
    assert rotated.decrypt(old_blob) == "王五"
    assert rotated.needs_reencryption(old_blob) is True

    new_blob = rotated.encrypt("王五")
    assert rotated.key_id_of(new_blob) == "k2"
    assert rotated.needs_reencryption(new_blob) is False
    assert rotated.decrypt(new_blob) == "王五"

    # The old key alone cannot read new data; once k1 is retired old blobs stop decrypting.
    with pytest.raises(DecryptionError, match="未配置"):
        old_cipher.decrypt(new_blob)
    retired = _cipher("k2", {"k2": _KEY_2})
    with pytest.raises(DecryptionError, match="未配置"):
        retired.decrypt(old_blob)


def test_keys_given_as_raw_bytes_or_unpadded_base64() -> None:
    raw = bytes(range(32))
    blob = _cipher(keys={"k1": raw}).encrypt("x")
    assert _cipher(keys={"k1": _KEY_1.rstrip("=")}).decrypt(blob) == "x"
    assert _cipher(keys={"k1": f"  {_KEY_1}\n"}).decrypt(blob) == "x"


@pytest.mark.parametrize(
    ("primary", "keys", "lookup_key", "message"),
    [
        ("k1", {}, _LOOKUP_KEY, "至少需要配置一个"),
        ("k9", {"k1": _KEY_1}, _LOOKUP_KEY, "主密钥编号 k9 不在"),
        ("k1", {"k1": base64.urlsafe_b64encode(bytes(16)).decode()}, _LOOKUP_KEY, "应为 32 字节"),
        ("k1", {"k1": "not base64 at all!"}, _LOOKUP_KEY, "不是有效的 urlsafe-base64"),
        ("k1", {"k1": bytes(31)}, _LOOKUP_KEY, "应为 32 字节"),
        ("bad id", {"bad id": _KEY_1}, _LOOKUP_KEY, "密钥编号只能由"),
        ("", {"": _KEY_1}, _LOOKUP_KEY, "密钥编号只能由"),
        ("k1", {"k1": _KEY_1}, base64.urlsafe_b64encode(bytes(16)).decode(), "至少应为 32 字节"),
        ("k1", {"k1": _KEY_1}, _KEY_1, "不得与加密密钥相同"),
        ("k1", {"k1": _KEY_1}, "%%%", "不是有效的 urlsafe-base64"),
    ],
)
def test_constructor_rejects_bad_configuration(
    primary: str, keys: dict[str, str | bytes], lookup_key: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message) as info:
        PersonalDataCipher(primary, keys, lookup_key)
    assert _KEY_1 not in str(info.value)


def test_repr_does_not_show_keys() -> None:
    cipher = _cipher("k2", {"k1": _KEY_1, "k2": _KEY_2})
    text = repr(cipher)
    assert text == "PersonalDataCipher(primary_key_id='k2', key_ids=('k1', 'k2'))"
    for key in (_KEY_1, _KEY_2, _LOOKUP_KEY):
        assert key not in text
    assert cipher.primary_key_id == "k2"
    assert cipher.key_ids == ("k1", "k2")


def test_generate_key() -> None:
    first, second = generate_key(), generate_key()
    assert first != second
    assert len(base64.urlsafe_b64decode(first)) == 32
    cipher = PersonalDataCipher("dev", {"dev": first}, second)
    assert cipher.decrypt(cipher.encrypt("ok")) == "ok"


# ----------------------------------------------------------------------------------------- blind index


def test_lookup_hash_known_answer() -> None:
    # Pins the construction: changing it would orphan every stored index.
    expected = hmac.new(
        base64.urlsafe_b64decode(_LOOKUP_KEY), b"id_card\x0011010519491231002X", hashlib.sha256
    ).hexdigest()
    assert _cipher().lookup_hash("11010519491231002X", "id_card") == expected


def test_lookup_hash_is_stable_across_instances_and_independent_of_encryption_keys() -> None:
    a = _cipher("k1", {"k1": _KEY_1})
    b = _cipher("k2", {"k2": _KEY_2})
    value = a.lookup_hash("13812345678", "mobile")
    assert value == b.lookup_hash("13812345678", "mobile")
    assert len(value) == 64
    assert int(value, 16) >= 0


def test_lookup_hash_depends_on_lookup_key() -> None:
    other = PersonalDataCipher("k1", {"k1": _KEY_1}, generate_key())
    assert other.lookup_hash("13812345678", "mobile") != _cipher().lookup_hash("13812345678", "mobile")


@pytest.mark.parametrize(
    ("kind", "variants"),
    [
        (
            "id_card",
            [
                "11010519491231002X",
                "11010519491231002x",
                " 11010519491231002x\t",
                "１１０１０５１９４９１２３１００２Ｘ",
            ],
        ),
        ("id_card", ["350203199001011234", "350203 19900101 1234"]),
        ("uscc", ["91350100611003829Y", "91350100611003829y ", "9135 0100 6110 0382 9Y"]),
        (
            "mobile",
            [
                "13812345678",
                " 138-1234-5678 ",
                "+86 13812345678",
                "0086 138 1234 5678",
                "１３８１２３４５６７８",
            ],
        ),
        ("name", ["张三丰", " 张三丰 ", "张三丰\u3000"]),
        ("name", ["Anna  Maria", "Anna Maria"]),
    ],
)
def test_lookup_hash_normalises(kind: LookupKind, variants: list[str]) -> None:
    cipher = _cipher()
    hashes = {cipher.lookup_hash(variant, kind) for variant in variants}
    assert len(hashes) == 1


def test_lookup_hash_separates_kinds_and_values() -> None:
    cipher = _cipher()
    assert cipher.lookup_hash("13812345678", "mobile") != cipher.lookup_hash("13812345678", "name")
    assert cipher.lookup_hash("张三", "name") != cipher.lookup_hash("张三丰", "name")
    # Case is significant for names (only ID-like kinds are upper-cased).
    assert cipher.lookup_hash("anna", "name") != cipher.lookup_hash("ANNA", "name")


@pytest.mark.parametrize(
    ("value", "kind"), [("", "id_card"), ("   ", "name"), ("\u3000", "mobile"), ("+86", "mobile")]
)
def test_lookup_hash_rejects_empty(value: str, kind: LookupKind) -> None:
    with pytest.raises(ValueError, match="不能为空"):
        _cipher().lookup_hash(value, kind)


def test_lookup_hash_rejects_unknown_kind() -> None:
    with pytest.raises(ValueError, match="未知的查询索引类型"):
        _cipher().lookup_hash("x", "email")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "kind", "expected"),
    [
        (" 11010519491231002x ", "id_card", "11010519491231002X"),
        ("+86 138-1234-5678", "mobile", "13812345678"),
        (" 张  三 ", "name", "张 三"),
    ],
)
def test_normalise_lookup_value(value: str, kind: LookupKind, expected: str) -> None:
    assert normalise_lookup_value(value, kind) == expected


# -------------------------------------------------------------------------------------------- masking


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("350203199001011234", "350203********1234"),
        ("11010519491231002X", "110105********002X"),
        (" 350203199001011234 ", "350203********1234"),
        ("350203900101123", "350203*****1123"),  # legacy 15-digit number
        ("1234567890", "**********"),
        ("", ""),
        (None, None),
    ],
)
def test_mask_id_card(value: str | None, expected: str | None) -> None:
    assert mask_id_card(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("13812345678", "138****5678"),
        (" 13812345678 ", "138****5678"),
        ("0591-87654321", "059******4321"),
        ("1234567", "*******"),
        ("", ""),
        (None, None),
    ],
)
def test_mask_phone(value: str | None, expected: str | None) -> None:
    assert mask_phone(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("福建省福州市鼓楼区五四路100号3栋501室", "福建省福州市****"),
        ("厦门市思明区莲前西路2号", "厦门市思明区****"),
        ("五四路100号", "五四路****"),  # short address: never more than half visible
        ("某村", "某****"),
        ("", ""),
        (None, None),
    ],
)
def test_mask_address(value: str | None, expected: str | None) -> None:
    assert mask_address(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("张三丰", "张*丰"),
        ("张三", "张*"),
        ("欧阳娜娜", "欧**娜"),
        ("买买提·艾力", "买****力"),
        ("王", "*"),
        (" 李四 ", "李*"),
        ("", ""),
        (None, None),
    ],
)
def test_mask_name(value: str | None, expected: str | None) -> None:
    assert mask_name(value) == expected


# ------------------------------------------------------------------------------------------- scrubbing


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "老人张三，身份证号350203199001011234，联系电话13812345678。",
            "老人张三，身份证号350203********1234，联系电话138****5678。",
        ),
        ("id=11010519491231002x&mobile=19912345678", "id=110105********002x&mobile=199****5678"),
        ("ID:11010519491231002X.", "ID:110105********002X."),
        ("身份证 350203 19900101 1234 已核验", "身份证 350203********1234 已核验"),
        ("电话 138 1234 5678 或 138-1234-5678", "电话 138****5678 或 138****5678"),
        ("call +8613812345678 / 0086 13812345678", "call +86138****5678 / 0086 138****5678"),
        ("全角１３８１２３４５６７８", "全角１３８****５６７８"),
        ("two: 13812345678,13912345678", "two: 138****5678,139****5678"),
        ("35020319900101123X9", "350203********123X9"),
        ("no personal data here", "no personal data here"),
        ("", ""),
    ],
)
def test_scrub_text_masks_embedded_numbers(text: str, expected: str) -> None:
    assert scrub_text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "订单号3502031990010112345",  # 19-digit run
        "交易流水 1381234567812345678 已入账",  # 19-digit run starting like a mobile number
        "卡号6222021234567890123",
        "12位 138123456789",
        "10位 1381234567",
        "20位 35020319900101123456",
        "17位 35020319900101123",
        "号段 12812345678",  # 11 digits but not a mobile number
        "金额 1234.56 元, 时间 2024-05-01 12:00:00",
    ],
)
def test_scrub_text_leaves_other_digit_runs_alone(text: str) -> None:
    assert scrub_text(text) == text


def test_scrub_text_scans_runs_as_the_whole_pattern_scans_the_text() -> None:
    """scrub_text applies the pattern to the runs of digit-like characters only (a speed-up): the same
    output as the pattern applied to the whole text, on texts made mostly of what the pattern reads."""

    def whole(text: str) -> str:
        return personal_data._SCRUB_RE.sub(personal_data._scrub_match, text)

    rng = random.Random(16)
    alphabet = "0123456789" * 4 + "13" * 6 + "8686" + ' -+xX.,:"\uff38\uff58a号\uff11\uff13\uff18\u0663'
    for _ in range(5_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60)))
        assert scrub_text(text) == whole(text), text
    for text in (
        "+8613812345678", "0086 13812345678", "86-138-1234-5678", "x13812345678x", "+13812345678",
        "9+8613812345678", "1381234567813812345678", "35020319900101123X13812345678",
        '{"path": "/p/350203199001011234", "request_id": "13812345678"}',
    ):  # fmt: skip
        assert scrub_text(text) == whole(text), text


def test_scrub_text_output_never_contains_whole_numbers() -> None:
    id_number, mobile = "350203199001011234", "13812345678"
    scrubbed = scrub_text(f"{id_number}{'，' * 3}{mobile} {id_number.lower()}")
    assert id_number not in scrubbed
    assert mobile not in scrubbed


def test_identity_fingerprint_is_keyed_normalised_and_apart_from_blind_indexes() -> None:
    cipher = _cipher()
    base = cipher.identity_fingerprint(name="张三丰", id_number="11010519491231002X", phone="13700001111")
    # typed otherwise, the same identity: lower-case x, full-width digits, spaces, a +86 prefix
    assert base == cipher.identity_fingerprint(
        name=" 张三丰 ", id_number="１１０１０５１９４９１２３１００２x", phone="+86 137-0000-1111"
    )
    assert base != cipher.identity_fingerprint(name="张三丰", id_number="11010519491231002X", phone=None)
    assert base != cipher.identity_fingerprint(
        name="张三峰", id_number="11010519491231002X", phone="13700001111"
    )
    assert base != cipher.identity_fingerprint(
        name="张三丰", id_number="11010519491231002X", phone="13700001111", address="湖里区台湾街 88 号"
    )
    assert base not in {
        cipher.lookup_hash("11010519491231002X", "id_card"),
        cipher.lookup_hash("张三丰", "name"),
    }
    other = PersonalDataCipher("k1", {"k1": _KEY_1}, generate_key())
    assert base != other.identity_fingerprint(
        name="张三丰", id_number="11010519491231002X", phone="13700001111"
    )
    assert len(base) == 64
