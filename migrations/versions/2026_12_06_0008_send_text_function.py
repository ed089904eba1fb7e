"""PostgreSQL: knock_send_text, a plain text message sent in one call

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 14:10:00

A send locks its conversation's row (gapless seqs) and the event counter's (gapless event
ids in commit order) until it commits. Sent statement by statement, those locks were held
across five round trips through a busy node's event loop, and every send of the cluster
queued behind them. Called as one statement outside any transaction, the function holds
them only while PostgreSQL runs it and flushes its commit.

It does what ``Messages._send_plain`` does on SQLite, in the same order (conversation row,
then the sender's member row, then the counter row, as every other writer). It answers no
row, and has changed nothing, when the sender is not a member or already sent this
client_msg_id here; it raises no_data_found, rolling back, when the sender was removed
while it waited on the conversation's row. The caller then takes the full send path,
which answers each case. The event's frame is the caller's, cut where the event id and the
seq go (``knock.core.events.split_frame``).
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

SIGNATURE = "knock_send_text(text, text, text, text, text, text, timestamptz, bytea, bytea)"

CREATE = """
CREATE FUNCTION knock_send_text(
    p_conversation_id text,
    p_sender_id text,
    p_client_msg_id text,
    p_message_id text,
    p_request_hash text,
    p_text text,
    p_at timestamptz,
    p_frame_before_seq bytea,
    p_frame_after_seq bytea,
    OUT sent_seq integer,
    OUT sent_member_count integer,
    OUT sent_event_id bigint
) RETURNS SETOF record
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM conversation_members m
        WHERE m.conversation_id = p_conversation_id AND m.user_id = p_sender_id
    ) OR EXISTS (
        SELECT 1 FROM messages x
        WHERE x.conversation_id = p_conversation_id AND x.sender_id = p_sender_id
          AND x.client_msg_id = p_client_msg_id
    ) THEN
        RETURN;
    END IF;
    UPDATE conversations c SET last_seq = c.last_seq + 1, last_activity_at = p_at
        WHERE c.id = p_conversation_id
        RETURNING c.last_seq, c.member_count INTO sent_seq, sent_member_count;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    INSERT INTO messages (id, conversation_id, seq, sender_id, client_msg_id, request_hash,
                          type, text, reply_to_id, mentions, created_at, edited_at,
                          recalled, burn_after_s, approval_id)
        VALUES (p_message_id, p_conversation_id, sent_seq, p_sender_id, p_client_msg_id,
                p_request_hash, 'text', p_text, NULL, '[]', p_at, NULL, false, NULL, NULL);
    UPDATE conversation_members m SET read_seq = sent_seq
        WHERE m.conversation_id = p_conversation_id AND m.user_id = p_sender_id
          AND m.read_seq < sent_seq;
    IF NOT FOUND THEN
        RAISE no_data_found USING MESSAGE = 'the sender is no longer a member';
    END IF;
    UPDATE event_counter e SET last_id = e.last_id + 1 WHERE e.id = 1
        RETURNING e.last_id INTO sent_event_id;
    INSERT INTO events (id, type, conversation_id, org_id, created_at, frame)
        VALUES (sent_event_id, 'message.created', p_conversation_id, NULL, p_at,
                convert_to('{"cursor":"' || sent_event_id || '",', 'UTF8')
                || p_frame_before_seq || convert_to(sent_seq::text, 'UTF8')
                || p_frame_after_seq);
    RETURN NEXT;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(CREATE)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP FUNCTION {SIGNATURE}")
