"""An approval's card in chat: a message of type ``approval`` carrying the approval's id
and the summary the submitter chose (never the values), posted as the submitter.

With a conversation named at submission the card goes there once per round. Without one it
goes into the dm between the submitter and each approver of the current step (the dm is
created if missing), as each step starts. Clients re-render the card from
``approval.updated``; a member of the conversation who takes no part in the approval sees
the summary and nothing more (GET /approvals/{id} answers 404 for them).
"""

from __future__ import annotations

import contextlib

from knock.core.db import Transaction
from knock.core.errors import NotFound
from knock.features.approvals import repository as repo
from knock.features.approvals.models import Approval
from knock.features.conversations.actions import Conversations
from knock.features.messages.actions import post_approval_card_txn
from knock.features.orgs.actions import members_among


class ApprovalCards:
    def __init__(self, conversations: Conversations) -> None:
        self._conversations = conversations

    async def post_txn(self, txn: Transaction, approval: Approval, *, first: bool) -> None:
        """Post the cards a round's start (``first``) or a new current step calls for."""
        if approval.conversation_id is not None:
            if not first:
                return
            # The submitter may have left that conversation since: no card this round.
            with contextlib.suppress(NotFound):
                await post_approval_card_txn(
                    txn,
                    approval.submitter_id,
                    approval.conversation_id,
                    approval.id,
                    approval.summary,
                    f"approval:{approval.id}:{approval.round}",
                )
            return
        if approval.current_step is None:
            return
        session = txn.session
        if not await members_among(session, approval.org_id, [approval.submitter_id]):
            return  # the submitter left the team: no one to post as
        steps = await repo.steps_of(session, [approval.id])
        approvers = next(
            people
            for step, people in steps
            if (step.round, step.position) == (approval.round, approval.current_step)
        )
        key = f"approval:{approval.id}:{approval.round}:{approval.current_step}"
        for approver in approvers:
            if approver.user_id == approval.submitter_id:
                continue
            dm_id, _ = await self._conversations.open_dm_txn(
                txn, approval.org_id, approval.submitter_id, approver.user_id
            )
            await post_approval_card_txn(
                txn, approval.submitter_id, dm_id, approval.id, approval.summary, key
            )
