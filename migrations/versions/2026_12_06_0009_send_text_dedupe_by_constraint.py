"""PostgreSQL: knock_send_text finds a retry through its unique constraint

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 20:45:00

0008 looked for an earlier message with the same client_msg_id with a query before taking
the conversation's row. PL/pgSQL keeps a plan per connection, and a plan made while the
messages table was nearly empty (a fresh deployment's first sends, a benchmark's fresh
database) could read the query through the (conversation_id, seq) index, every message of
the conversation, until the next ANALYZE replanned it. Measured: 575 µs of PostgreSQL CPU a
send at first, 1,680 µs 8,000 sends into one conversation, back to 350 after an ANALYZE.

Now the INSERT finds the retry itself, through the unique constraint on (conversation_id,
sender_id, client_msg_id), which no plan chooses. A retry found there raises
no_data_found, rolling back the seq it took; the caller then takes the full send path,
which answers the retry (as it does for a sender removed while waiting).
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

HEAD = """
CREATE OR REPLACE FUNCTION knock_send_text(
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
"""

MEMBER_CHECK = """
    IF NOT EXISTS (
        SELECT 1 FROM conversation_members m
        WHERE m.conversation_id = p_conversation_id AND m.user_id = p_sender_id
    ) THEN
        RETURN;
    END IF;
"""

# 0008's check, put back by downgrade().
OLD_MEMBER_AND_RETRY_CHECK = """
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
"""

TAKE_SEQ = """
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
                p_request_hash, 'text', p_text, NULL, '[]', p_at, NULL, false, NULL, NULL)
"""

ON_CONFLICT = """
        ON CONFLICT ON CONSTRAINT uq_messages_conversation_id_sender_id_client_msg_id
        DO NOTHING;
    IF NOT FOUND THEN
        RAISE no_data_found USING MESSAGE = 'a retry of this client_msg_id';
    END IF;
"""

TAIL = """
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
        op.execute(HEAD + MEMBER_CHECK + TAKE_SEQ + ON_CONFLICT + TAIL)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(HEAD + OLD_MEMBER_AND_RETRY_CHECK + TAKE_SEQ + ";\n" + TAIL)
