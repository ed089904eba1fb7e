import { useQuery } from '@tanstack/react-query';
import { AlertCircle, BellRing, Check, CheckCheck, Clock, Copy, Ellipsis, Flame, Pencil, Reply, RotateCw, Trash2, Undo2 } from 'lucide-react';
import { memo, useEffect, useRef, useState, type KeyboardEvent, type MouseEvent as ReactMouseEvent } from 'react';
import { api } from '../api/endpoints';
import type { Conversation, Message } from '../api/types';
import { useChat, useSession } from '../app/context';
import { useI18n } from '../i18n';
import { Markdown } from '../lib/Markdown';
import { toPlainText, type MentionTarget } from '../lib/markdown';
import { receiptLabel, receiptSummary } from '../lib/receipts';
import type { OutboxItem } from '../state/outbox';
import { isSealed, type ConversationMembers } from '../state/reducer';
import { Avatar } from '../ui/Avatar';
import { errorText, formatTime } from '../ui/format';
import { MediaView } from '../ui/MediaView';
import { BurnContent } from '../media/BurnContent';
import { BurnCountdown } from '../media/BurnCountdown';
import { ApprovalCard } from '../office/ApprovalCard';
import { DingDialog } from '../office/DingDialog';

const RECALL_WINDOW_MS = 2 * 60 * 1000;

/** Touch screens have no hover to reveal the menu button: a tap on the bubble opens it. */
function openMenuOnTouch(e: ReactMouseEvent<HTMLDivElement>): void {
  if (!window.matchMedia('(hover: none)').matches) return;
  if ((e.target as HTMLElement).closest('a, button')) return;
  e.currentTarget.parentElement?.querySelector<HTMLButtonElement>('.msg-more')?.click();
}

interface Props {
  message: Message;
  conversation: Conversation;
  names: Map<string, string>;
  members: ConversationMembers | undefined;
  startsRun: boolean;
  endsRun: boolean;
  onReply: (m: Message) => void;
  onEdit: (m: Message) => void;
  onShowReceipts: (m: Message) => void;
}

export const MessageItem = memo(function MessageItem({ message, conversation, names, members, startsRun, endsRun, onReply, onEdit, onShowReceipts }: Props) {
  const { t, locale } = useI18n();
  const session = useSession();
  const mine = message.sender_id === session.me.id;
  const senderName = mine ? session.me.display_name : (names.get(message.sender_id) ?? members?.byId[message.sender_id]?.display_name ?? t('chat.unknownUser'));
  const [error, setError] = useState<string | null>(null);
  const [dinging, setDinging] = useState(false);

  if (message.recalled || message.burned) {
    return (
      <p className="system-note" id={`msg-${message.id}`} data-testid="message">
        {message.burned ? t('chat.burned') : mine ? t('chat.recalledByMe') : t('chat.recalledBy', { name: senderName })}
      </p>
    );
  }
  const sealed = isSealed(message);
  const open = async () => {
    try {
      session.store.dispatch({ kind: 'message.stored', message: await api.openMessage(message.id) });
    } catch (err) {
      setError(errorText(err, t));
    }
  };

  const mentionTargets: MentionTarget[] = message.mentions.map((id) =>
    id === 'all' ? { userId: 'all', name: 'all' } : { userId: id, name: id === session.me.id ? session.me.display_name : (names.get(id) ?? members?.byId[id]?.display_name ?? id) },
  );
  const group = conversation.kind === 'group';
  const summary = mine ? receiptSummary(message, members) : null;
  const label = summary ? receiptLabel(summary) : null;
  const canRecall = mine && Date.now() - new Date(message.created_at).getTime() < RECALL_WINDOW_MS;

  const recall = async () => {
    try {
      session.store.dispatch({ kind: 'message.stored', message: await api.recallMessage(message.id) });
    } catch (err) {
      setError(errorText(err, t));
    }
  };

  return (
    <div
      className={`msg ${mine ? 'msg-mine' : 'msg-theirs'}${startsRun ? ' run-start' : ''}${endsRun ? ' run-end' : ''}`}
      id={`msg-${message.id}`}
      data-testid="message"
      data-seq={message.seq}
    >
      {!mine && group && <div className="msg-avatar">{endsRun && <Avatar id={message.sender_id} name={senderName} size="sm" />}</div>}
      <div className="msg-body">
        {!mine && group && startsRun && <div className="msg-sender">{senderName}</div>}
        <div className="msg-row">
          <div className="bubble" onClick={openMenuOnTouch}>
            <span className="visually-hidden">{t('chat.from', { name: senderName })}</span>
            {message.reply_to_id && <ReplyQuote conversationId={conversation.id} messageId={message.reply_to_id} names={names} />}
            {message.type === 'approval' ? (
              <ApprovalCard message={message} />
            ) : sealed ? (
              <button type="button" className="burn-open" onClick={open}>
                <Flame size={18} aria-hidden="true" />
                <span>
                  <strong>{t('chat.sealed')}</strong>
                  <small>{t('chat.open')}</small>
                </span>
              </button>
            ) : (
              <BurnContent burn={message.burn_after_s != null}>
                {(hidden) => (
                  <>
                    {message.media && message.media.length > 0 && <MediaView media={message.media} caption={message.text} hidden={hidden} message={message} orgId={conversation.org_id} />}
                    {message.text && (
                      <div className="msg-text" data-testid="message-text">
                        <Markdown text={message.text} mentions={mentionTargets} meId={session.me.id} />
                      </div>
                    )}
                  </>
                )}
              </BurnContent>
            )}
            <span className="msg-meta">
              {message.burn_after_s != null && !sealed && <BurnCountdown message={message} />}
              {message.edited_at && <span className="msg-edited">{t('chat.edited')}</span>}
              <time dateTime={message.created_at}>{formatTime(message.created_at, locale)}</time>
              {mine && <Check size={14} aria-label={t('send.sent')} className="sent-tick" />}
            </span>
          </div>
          <MessageMenu
            mine={mine && message.burn_after_s == null && message.type !== 'approval'}
            canReply={message.burn_after_s == null}
            onDing={message.burn_after_s == null && message.type !== 'approval' ? () => setDinging(true) : undefined}
            canRecall={canRecall}
            onReply={() => onReply(message)}
            onEdit={() => onEdit(message)}
            onRecall={recall}
            onCopy={() => void navigator.clipboard?.writeText(toPlainText(message.text)).catch(() => undefined)}
          />
        </div>
        {mine && label && (
          <button
            type="button"
            className={`receipt ${label.key === 'receipt.allRead' ? 'receipt-all' : 'receipt-unread'}`}
            onClick={() => onShowReceipts(message)}
            aria-label={`${label.key === 'receipt.allRead' ? t('receipt.allRead') : t('receipt.unread', { count: label.count })}. ${t('receipt.show')}`}
            data-testid="receipt"
          >
            {label.key === 'receipt.allRead' ? <CheckCheck size={14} aria-hidden="true" /> : null}
            {label.key === 'receipt.allRead' ? t('receipt.allRead') : t('receipt.unread', { count: label.count })}
          </button>
        )}
        {error && (
          <p className="msg-error" role="alert">
            {error}
          </p>
        )}
      </div>
      {dinging && <DingDialog orgId={conversation.org_id} message={message} onClose={() => setDinging(false)} />}
    </div>
  );
});

function ReplyQuote({ conversationId, messageId, names }: { conversationId: string; messageId: string; names: Map<string, string> }) {
  const { t } = useI18n();
  const session = useSession();
  const local = useChat((s) => s.messages[conversationId]?.items.find((m) => m.id === messageId));
  const remote = useQuery({ queryKey: ['message', messageId], queryFn: () => api.message(messageId), enabled: !local, staleTime: Infinity, retry: false });
  const original = local ?? remote.data;
  const name = original ? (original.sender_id === session.me.id ? session.me.display_name : (names.get(original.sender_id) ?? t('chat.unknownUser'))) : '';
  const text = !original ? t('chat.originalMissing') : original.recalled ? t('chats.recalled') : toPlainText(original.text);
  const jump = () => {
    const el = document.getElementById(`msg-${messageId}`);
    if (!el) return;
    el.scrollIntoView({ block: 'center', behavior: 'smooth' });
    el.classList.add('msg-flash');
    setTimeout(() => el.classList.remove('msg-flash'), 1600);
  };
  return (
    <button type="button" className="reply-quote" onClick={jump} disabled={!local}>
      {name && <strong>{name}</strong>}
      <span>{text}</span>
    </button>
  );
}

interface MenuProps {
  mine: boolean;
  canReply: boolean;
  canRecall: boolean;
  onReply: () => void;
  onEdit: () => void;
  onRecall: () => void;
  onCopy: () => void;
  onDing?: () => void;
}

function MessageMenu({ mine, canReply, canRecall, onReply, onEdit, onRecall, onCopy, onDing }: MenuProps) {
  const { t } = useI18n();
  const [open, setOpen] = useState(false);
  const menu = useRef<HTMLDivElement>(null);
  const trigger = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    if (!open) return;
    menu.current?.querySelector<HTMLButtonElement>('[role="menuitem"]')?.focus();
    const close = (e: MouseEvent) => {
      if (!menu.current?.contains(e.target as Node) && e.target !== trigger.current) setOpen(false);
    };
    document.addEventListener('mousedown', close);
    return () => document.removeEventListener('mousedown', close);
  }, [open]);

  const choose = (action: () => void) => {
    setOpen(false);
    trigger.current?.focus();
    action();
  };
  const onKeyDown = (e: KeyboardEvent) => {
    const items = [...(menu.current?.querySelectorAll<HTMLButtonElement>('[role="menuitem"]') ?? [])];
    const index = items.indexOf(document.activeElement as HTMLButtonElement);
    if (e.key === 'Escape') {
      e.stopPropagation();
      setOpen(false);
      trigger.current?.focus();
    } else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      const next = (index + (e.key === 'ArrowDown' ? 1 : -1) + items.length) % items.length;
      items[next]?.focus();
    } else if (e.key === 'Tab') {
      setOpen(false);
    }
  };

  return (
    <div className="msg-actions">
      <button
        ref={trigger}
        type="button"
        className="icon-button icon-button-small msg-more"
        aria-label={t('chat.messageActions')}
        aria-haspopup="menu"
        aria-expanded={open}
        onClick={() => setOpen((v) => !v)}
      >
        <Ellipsis size={18} aria-hidden="true" />
      </button>
      {open && (
        <div className="menu" role="menu" ref={menu} onKeyDown={onKeyDown} aria-label={t('chat.messageActions')}>
          {canReply && (
            <button type="button" role="menuitem" onClick={() => choose(onReply)}>
              <Reply size={16} aria-hidden="true" /> {t('chat.reply')}
            </button>
          )}
          <button type="button" role="menuitem" onClick={() => choose(onCopy)}>
            <Copy size={16} aria-hidden="true" /> {t('chat.copy')}
          </button>
          {mine && (
            <button type="button" role="menuitem" onClick={() => choose(onEdit)}>
              <Pencil size={16} aria-hidden="true" /> {t('chat.edit')}
            </button>
          )}
          {onDing && (
            <button type="button" role="menuitem" onClick={() => choose(onDing)}>
              <BellRing size={16} aria-hidden="true" /> {t('ding.action')}
            </button>
          )}
          {canRecall && (
            <button type="button" role="menuitem" className="danger" onClick={() => choose(onRecall)}>
              <Undo2 size={16} aria-hidden="true" /> {t('chat.recall')}
            </button>
          )}
        </div>
      )}
    </div>
  );
}

/** A message of mine the server has not acknowledged yet: sending, waiting, or failed. */
export function OutboxBubble({ item, startsRun, endsRun }: { item: OutboxItem; startsRun: boolean; endsRun: boolean }) {
  const { t, locale } = useI18n();
  const session = useSession();
  const failed = item.status === 'failed';
  const waiting = item.status === 'queued' && !navigator.onLine;
  return (
    <div
      className={`msg msg-mine msg-pending${failed ? ' msg-failed' : ''}${startsRun ? ' run-start' : ''}${endsRun ? ' run-end' : ''}`}
      data-testid="pending-message"
      data-status={failed ? 'failed' : 'sending'}
    >
      <div className="msg-body">
        <div className="msg-row">
          <div className="bubble">
            {item.type && item.type !== 'text' && (
              <span className="media-failed">{item.type === 'image' ? t('chat.photo') : item.type === 'voice' ? t('chat.voice') : t('media.voicePhoto')}</span>
            )}
            {item.text && (
              <div className="msg-text" data-testid="message-text">
                <Markdown text={item.text} meId={session.me.id} />
              </div>
            )}
            <span className="msg-meta">
              <time dateTime={item.created_at}>{formatTime(item.created_at, locale)}</time>
              {failed ? <AlertCircle size={14} aria-hidden="true" /> : <Clock size={14} aria-hidden="true" />}
            </span>
          </div>
        </div>
        <div className={`send-state${failed ? ' send-failed' : ''}`} role={failed ? 'alert' : undefined}>
          {failed ? (
            <>
              <span>{t('send.failed')}</span>
              <button type="button" className="link-button" onClick={() => session.sender.retry(item.client_msg_id)}>
                <RotateCw size={13} aria-hidden="true" /> {t('send.retry')}
              </button>
              <button type="button" className="link-button link-muted" onClick={() => session.sender.discard(item.client_msg_id)}>
                <Trash2 size={13} aria-hidden="true" /> {t('send.discard')}
              </button>
            </>
          ) : (
            <span>{waiting ? t('send.waiting') : t('send.sending')}</span>
          )}
        </div>
      </div>
    </div>
  );
}
