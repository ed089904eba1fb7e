import { ArrowLeft, Info } from 'lucide-react';
import { useEffect, useMemo, useRef, useState } from 'react';
import type { Message } from '../api/types';
import { useChat, useIsDesktop, useSession } from '../app/context';
import { useNames, useOrgMembers } from '../app/orgs';
import { navigate } from '../app/router';
import { useI18n } from '../i18n';
import { Avatar } from '../ui/Avatar';
import { conversationTitle } from '../ui/conversation';
import { CallBar, CallButton } from './CallBar';
import { Composer, type ComposerMode } from './Composer';
import { GroupInfo } from './GroupInfo';
import { MessageList } from './MessageList';
import { ReceiptsDialog } from './ReceiptsDialog';

export function ChatView({ conversationId }: { conversationId: string }) {
  const { t } = useI18n();
  const session = useSession();
  const desktop = useIsDesktop();
  const conv = useChat((s) => s.conversations[conversationId]);
  const loaded = useChat((s) => s.conversationsLoaded);
  const names = useNames(conv?.org_id ?? null);
  const { data: orgMembers } = useOrgMembers(conv?.org_id ?? null);
  const [mode, setMode] = useState<ComposerMode>({ kind: 'new' });
  const [infoOpen, setInfoOpen] = useState(false);
  const [receiptsFor, setReceiptsFor] = useState<Message | null>(null);
  const [missing, setMissing] = useState(false);
  const heading = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    if (conv || !loaded) return;
    let cancelled = false;
    session.fetchConversation(conversationId).then(() => {
      if (!cancelled && !session.store.getState().conversations[conversationId]) setMissing(true);
    });
    return () => {
      cancelled = true;
    };
  }, [conv, loaded, conversationId, session]);

  const hasConv = !!conv;
  useEffect(() => {
    if (!hasConv) return;
    if (!session.store.getState().messages[conversationId]?.items.length) void session.loadLatest(conversationId).catch(() => undefined);
    void session.loadMembers(conversationId).catch(() => undefined);
  }, [hasConv, conversationId, session]);

  // Opening a chat moves focus into it: to the composer on a desktop (type at once), to the
  // title on a phone (no keyboard popping up; screen readers announce where they are).
  useEffect(() => {
    if (!hasConv) return;
    if (desktop) document.querySelector<HTMLTextAreaElement>('[data-testid="composer"]')?.focus();
    else heading.current?.focus();
  }, [hasConv, conversationId, desktop]);

  const peer = useMemo(() => orgMembers?.find((m) => m.user_id === conv?.peer_id), [orgMembers, conv?.peer_id]);

  if (!conv) {
    return <div className="empty-state">{missing ? <p>{t('error.not_found')}</p> : <p className="muted">{t('common.loading')}</p>}</div>;
  }
  const title = conversationTitle(conv, names, t);
  const subtitle = conv.kind === 'group' ? conv.member_count === 1 ? t('chat.membersOne') : t('chat.members', { count: conv.member_count }) : (peer?.email ?? t('chat.direct'));

  return (
    <div className={`chat${infoOpen && desktop ? ' chat-with-panel' : ''}`}>
      <section className="chat-main" aria-labelledby="chat-title">
        <header className="pane-header chat-header">
          {!desktop && (
            <button type="button" className="icon-button" onClick={() => navigate({ name: 'chats' })} aria-label={t('nav.back')}>
              <ArrowLeft size={22} aria-hidden="true" />
            </button>
          )}
          <Avatar id={conv.kind === 'dm' ? (conv.peer_id ?? conv.id) : conv.id} name={title} size="md" group={conv.kind === 'group'} />
          <div className="chat-heading">
            <h1 id="chat-title" ref={heading} tabIndex={-1}>
              {title}
            </h1>
            <p className="chat-subtitle">{subtitle}</p>
          </div>
          <CallButton conversationId={conv.id} />
          <button
            type="button"
            className="icon-button"
            onClick={() => setInfoOpen((v) => !v)}
            aria-label={t('chat.info')}
            aria-expanded={infoOpen}
            title={t('chat.info')}
          >
            <Info size={22} aria-hidden="true" />
          </button>
        </header>
        <CallBar conversationId={conv.id} names={names} />
        <MessageList
          conversation={conv}
          names={names}
          onReply={(m) => setMode({ kind: 'reply', message: m })}
          onEdit={(m) => setMode({ kind: 'edit', message: m })}
          onShowReceipts={setReceiptsFor}
        />
        <Composer conversation={conv} title={title} names={names} mode={mode} onModeDone={() => setMode({ kind: 'new' })} />
      </section>
      {infoOpen && <GroupInfo conversation={conv} title={title} names={names} onClose={() => setInfoOpen(false)} asPanel={desktop} />}
      {receiptsFor && <ReceiptsDialog message={receiptsFor} names={names} onClose={() => setReceiptsFor(null)} />}
    </div>
  );
}
