"""The pair rule: one agreement of a (medical, elderly-care) pair at a time.

While a pair has an agreement being negotiated (draft, submitted, countersigned and waiting for its start)
or in force, no other agreement of the pair that would be negotiated or in force may be created — except
the renewal of the one in force. Agreements whose term is over (expired, terminated) block nothing, even
before the calendar job has marked them: :func:`load_holders` persists the calendar for the pairs first.

One function for the single write (``POST /agreements``, a batch of one pair) and the city platforms'
bulk write (all the batch's pairs read in two statements, then checked record by record as the batch
would change them). The database holds the same line with two partial unique indexes (one agreement
pending and one in force per pair), so concurrent writers cannot both win.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.contracts.agreements import lifecycle
from services.contracts.agreements.errors import DuplicateAgreement
from services.contracts.agreements.models import PENDING_STATES, Agreement, AgreementState

Pair = tuple[uuid.UUID, uuid.UUID]


def occupies(state: AgreementState) -> str | None:
    """Which slot of its pair an agreement in ``state`` takes: "pending", "in_force" or none."""
    if state in PENDING_STATES:
        return "pending"
    if state is AgreementState.active:
        return "in_force"
    return None


@dataclass
class PairHolders:
    """The agreements pending or in force of some pairs, as the writes of this transaction leave them."""

    held: dict[Pair, dict[uuid.UUID, AgreementState]] = field(default_factory=dict)

    def claim(
        self,
        pair: Pair,
        *,
        agreement_id: uuid.UUID,
        state: AgreementState,
        new: bool,
        renewing: uuid.UUID | None = None,
    ) -> None:
        """Let ``agreement_id`` enter ``state`` in ``pair``, or raise :class:`DuplicateAgreement`.

        A new agreement that will be pending or in force needs the pair free of every other agreement
        pending or in force (but the one it renews). An agreement already held (a platform's update of
        its own record) needs only its slot free: it may stay in force beside its renewal's draft.
        """
        holders = self.held.setdefault(pair, {})
        slot = occupies(state)
        if slot is None:
            holders.pop(agreement_id, None)
            return
        others = [s for i, s in holders.items() if i not in (agreement_id, renewing)]
        if (new and others) or any(occupies(s) == slot for s in others):
            raise DuplicateAgreement()
        holders[agreement_id] = state


async def load_holders(
    session: AsyncSession, pairs: Collection[Pair], *, today: date, now: datetime
) -> PairHolders:
    """Advance the calendar of the pairs' agreements, then read those pending or in force (two or three
    statements whatever the number of pairs)."""
    if not pairs:
        return PairHolders()
    await lifecycle.advance_calendar(session, today=today, now=now, pairs=pairs)
    rows = await session.execute(
        select(
            Agreement.id, Agreement.medical_institution_id, Agreement.elderly_institution_id, Agreement.state
        ).where(
            *lifecycle.pairs_scope(pairs),
            or_(Agreement.state.in_(PENDING_STATES), Agreement.state == AgreementState.active),
        )
    )
    wanted = set(pairs)
    holders = PairHolders()
    for agreement_id, medical_id, elderly_id, state in rows.all():
        if (medical_id, elderly_id) in wanted:
            holders.held.setdefault((medical_id, elderly_id), {})[agreement_id] = state
    return holders
