"""The identity check of the person served at a nurse's check-in (issue 18; rules.md: "check-in at the
address with identity checks").

The check-in body may carry a proof: ``id_suffix`` — the last ``identity_suffix_length`` characters of the
ID number the elder shows, compared by the residents service, where the number lives (homecare sends the
suffix only; the whole number never travels) — or ``elder_code`` — the code the serving institution issued
to the elder (recipients/elder_code.py), compared here against its keyed hash.

The check never blocks a check-in. Its outcome flags the order (reviewed with ``review-flags`` like the
location flags): a proof that does not match is ``identity_mismatch``; the residents service not answering
(down, failing, the day's attempts used up) or a recipient not linked to the person index is
``identity_unverified``; no proof at all is ``identity_unchecked`` only when ``identity_proof_required``.
The check-in event records the method and the outcome, never the value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from libs.common.personal_data import PersonalDataCipher
from services.homecare.clients.residents import ResidentsClient
from services.homecare.orders.errors import IdentitySuffixInvalid
from services.homecare.orders.schemas import ElderCodeProof, IdentityProof
from services.homecare.recipients import elder_code
from services.homecare.recipients.models import Recipient
from services.homecare.settings import HomecareSettings

IDENTITY_MISMATCH = "identity_mismatch"
IDENTITY_UNVERIFIED = "identity_unverified"
IDENTITY_UNCHECKED = "identity_unchecked"

FLAG_LABELS = {
    IDENTITY_MISMATCH: "服务对象身份核验不符",
    IDENTITY_UNVERIFIED: "服务对象身份未能核验（居民服务无应答）",
    IDENTITY_UNCHECKED: "签到时未核验服务对象身份",
}

Outcome = Literal["match", "mismatch", "unverified", "none"]


@dataclass(frozen=True, slots=True)
class IdentityOutcome:
    method: str | None
    outcome: Outcome
    required: bool = False

    @property
    def flags(self) -> list[str]:
        if self.outcome == "mismatch":
            return [IDENTITY_MISMATCH]
        if self.outcome == "unverified":
            return [IDENTITY_UNVERIFIED]
        if self.outcome == "none" and self.required:
            return [IDENTITY_UNCHECKED]
        return []

    def record(self) -> dict[str, Any]:
        """What the event keeps: the method and the outcome, never the value."""
        return {"method": self.method, "outcome": self.outcome}


def check_proof(settings: HomecareSettings, proof: IdentityProof | None) -> None:
    """Refuse (422) an ID suffix of another length than the setting's, before anything is asked."""
    if (
        proof is not None
        and proof.method == "id_suffix"
        and len(proof.value) != settings.identity_suffix_length
    ):
        raise IdentitySuffixInvalid(settings.identity_suffix_length)


async def verify(
    settings: HomecareSettings,
    residents: ResidentsClient,
    cipher: PersonalDataCipher,
    recipient: Recipient,
    proof: IdentityProof | None,
) -> IdentityOutcome:
    if proof is None:
        return IdentityOutcome(None, "none", required=settings.identity_proof_required)
    if isinstance(proof, ElderCodeProof):
        return IdentityOutcome(
            proof.method, "match" if elder_code.matches(cipher, recipient, proof.value) else "mismatch"
        )
    if recipient.person_id is None:
        return IdentityOutcome(proof.method, "unverified")
    answer = await residents.identity_matches(recipient.person_id, proof.value.upper())
    if answer is None:
        return IdentityOutcome(proof.method, "unverified")
    return IdentityOutcome(proof.method, "match" if answer else "mismatch")
