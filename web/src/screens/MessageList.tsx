import { ArrowDown } from 'lucide-react';
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import type { Conversation, Message } from '../api/types';
import { useChat, useSession } from '../app/context';
import { useI18n } from '../i18n';
import { buildTimeline } from '../lib/days';
import type { OutboxItem } from '../state/outbox';
import { formatDay } from '../ui/format';
import { MessageItem, OutboxBubble } from './MessageItem';

interface Props {
  conversation: Conversation;
  names: Map<string, string>;
  onReply: (m: Message) => void;
  onEdit: (m: Message) => void;
  onShowReceipts: (m: Message) => void;
}

const EMPTY: Message[] = [];
const NEAR_BOTTOM_PX = 120;

type Row = { kind: 'message'; message: Message } | { kind: 'outbox'; item: OutboxItem };

export function MessageList({ conversation, names, onReply, onEdit, onShowReceipts }: Props) {
  const { t, locale } = useI18n();
  const session = useSession();
  const convId = conversation.id;
  const messages = useChat((s) => s.messages[convId]?.items ?? EMPTY);
  const hasMoreBefore = useChat((s) => s.messages[convId]?.hasMoreBefore ?? true);
  const loadedOnce = useChat((s) => !!s.messages[convId]);
  const outbox = useChat((s) => s.outbox);
  const members = useChat((s) => s.members[convId]);
  const pending = useMemo(() => outbox.filter((i) => i.conversation_id === convId), [outbox, convId]);

  const scroller = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  const lastHeight = useRef(0);
  const lastFirstSeq = useRef<number | null>(null);
  const lastCount = useRef(0);
  const lastPending = useRef(pending.length);
  const [showJump, setShowJump] = useState(false);
  const [loadingOlder, setLoadingOlder] = useState(false);

  const timeline = useMemo(() => {
    const rows: (Row & { created_at: string; sender_id: string })[] = [
      ...messages.map((m) => ({ kind: 'message' as const, message: m, created_at: m.created_at, sender_id: m.recalled ? `recalled:${m.id}` : m.sender_id })),
      ...pending.map((item) => ({ kind: 'outbox' as const, item, created_at: item.created_at, sender_id: session.me.id })),
    ];
    return buildTimeline(rows);
  }, [messages, pending, session.me.id]);

  const lastSeq = messages.at(-1)?.seq ?? 0;
  const firstSeq = messages[0]?.seq ?? null;
  const rowCount = messages.length + pending.length;

  const markReadIfVisible = useCallback(() => {
    if (document.visibilityState === 'visible' && atBottom.current && lastSeq > 0) session.markRead(convId, lastSeq);
  }, [session, convId, lastSeq]);

  // Keep the view where the reader left it: at the bottom when they were there, and on the
  // same message when older history is put above it.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const grewAbove = firstSeq !== null && lastFirstSeq.current !== null && firstSeq < lastFirstSeq.current;
    if (grewAbove) {
      el.scrollTop += el.scrollHeight - lastHeight.current;
    } else if (rowCount > lastCount.current) {
      const mineJustSent = pending.length > lastPending.current;
      if (atBottom.current || mineJustSent || lastCount.current === 0) {
        el.scrollTop = el.scrollHeight;
        atBottom.current = true;
      } else {
        setShowJump(true);
      }
    }
    lastHeight.current = el.scrollHeight;
    lastFirstSeq.current = firstSeq;
    lastCount.current = rowCount;
    lastPending.current = pending.length;
  });

  useEffect(() => {
    markReadIfVisible();
    document.addEventListener('visibilitychange', markReadIfVisible);
    window.addEventListener('focus', markReadIfVisible);
    return () => {
      document.removeEventListener('visibilitychange', markReadIfVisible);
      window.removeEventListener('focus', markReadIfVisible);
    };
  }, [markReadIfVisible]);

  const loadOlder = useCallback(async () => {
    if (loadingOlder || !hasMoreBefore || messages.length === 0) return;
    setLoadingOlder(true);
    try {
      await session.loadOlder(convId);
    } catch {
      // try again on the next scroll
    } finally {
      setLoadingOlder(false);
    }
  }, [loadingOlder, hasMoreBefore, messages.length, session, convId]);

  // A short history may not fill the screen, leaving nothing to scroll: load more then.
  useEffect(() => {
    const el = scroller.current;
    if (el && loadedOnce && el.scrollHeight <= el.clientHeight + 20 && hasMoreBefore && messages.length > 0) void loadOlder();
  }, [loadedOnce, hasMoreBefore, messages.length, loadOlder]);

  const onScroll = () => {
    const el = scroller.current;
    if (!el) return;
    atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < NEAR_BOTTOM_PX;
    if (atBottom.current) {
      setShowJump(false);
      markReadIfVisible();
    }
    if (el.scrollTop < 300) void loadOlder();
  };

  const jumpToLatest = () => {
    const el = scroller.current;
    if (!el) return;
    el.scrollTo({ top: el.scrollHeight, behavior: 'smooth' });
    atBottom.current = true;
    setShowJump(false);
    markReadIfVisible();
  };

  return (
    <div className="message-area">
      <div className="messages" ref={scroller} onScroll={onScroll} role="log" aria-label={t('chat.messagesLog')} tabIndex={0} data-testid="messages">
        <div className="messages-inner">
          {loadedOnce && !hasMoreBefore && <p className="history-start">{t('chat.beginning')}</p>}
          {loadingOlder && (
            <p className="history-loading" role="status">
              {t('chat.loadingOlder')}
            </p>
          )}
          {timeline.map((entry) => {
            if (entry.kind === 'day')
              return (
                <div key={`day-${entry.key}`} className="day-separator" role="separator">
                  <span>{formatDay(entry.date, locale, t)}</span>
                </div>
              );
            const row = entry.item;
            if (row.kind === 'outbox')
              return <OutboxBubble key={row.item.client_msg_id} item={row.item} startsRun={entry.startsRun} endsRun={entry.endsRun} />;
            return (
              <MessageItem
                key={row.message.id}
                message={row.message}
                conversation={conversation}
                names={names}
                members={members}
                startsRun={entry.startsRun}
                endsRun={entry.endsRun}
                onReply={onReply}
                onEdit={onEdit}
                onShowReceipts={onShowReceipts}
              />
            );
          })}
        </div>
      </div>
      {showJump && (
        <button type="button" className="jump-latest" onClick={jumpToLatest}>
          <ArrowDown size={16} aria-hidden="true" /> {t('chat.jumpToLatest')}
        </button>
      )}
    </div>
  );
}
