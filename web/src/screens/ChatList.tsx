import { Check, ChevronDown, Plus, Search, SquarePen } from 'lucide-react';
import { useMemo, useState } from 'react';
import type { Conversation, Org } from '../api/types';
import { useChat, useIsDesktop, useSession } from '../app/context';
import { useNames, selectOrg } from '../app/orgs';
import { navigate } from '../app/router';
import { useI18n } from '../i18n';
import { sortedConversations } from '../state/reducer';
import { Avatar } from '../ui/Avatar';
import { conversationTitle, previewText } from '../ui/conversation';
import { Dialog } from '../ui/Dialog';
import { formatListTime } from '../ui/format';
import { NewChatDialog } from './NewChatDialog';

interface Props {
  org: Org;
  orgs: Org[];
  selectedId: string | null;
  onCreateTeam: () => void;
}

export function ChatList({ org, orgs, selectedId, onCreateTeam }: Props) {
  const { t } = useI18n();
  const desktop = useIsDesktop();
  const names = useNames(org.id);
  const conversationsMap = useChat((s) => s.conversations);
  const loaded = useChat((s) => s.conversationsLoaded);
  const [query, setQuery] = useState('');
  const [creating, setCreating] = useState(false);
  const [switching, setSwitching] = useState(false);

  const conversations = useMemo(() => {
    const all = sortedConversations(conversationsMap, org.id);
    const q = query.trim().toLowerCase();
    return q ? all.filter((c) => conversationTitle(c, names, t).toLowerCase().includes(q)) : all;
  }, [conversationsMap, org.id, query, names, t]);

  return (
    <section className="chatlist" aria-labelledby="chatlist-title">
      <header className="pane-header chatlist-header">
        {desktop ? (
          <div className="team-title">
            <h1 id="chatlist-title">{org.name}</h1>
          </div>
        ) : (
          <button type="button" className="team-switch" onClick={() => setSwitching(true)} aria-haspopup="dialog" aria-label={`${t('team.switch')}: ${org.name}`}>
            <Avatar id={org.id} name={org.name} size="sm" group />
            <h1 id="chatlist-title">{org.name}</h1>
            <ChevronDown size={18} aria-hidden="true" />
          </button>
        )}
        <button type="button" className="icon-button icon-button-tinted" onClick={() => setCreating(true)} aria-label={t('chats.new')} title={t('chats.new')}>
          <SquarePen size={20} aria-hidden="true" />
        </button>
      </header>
      <div className="search">
        <Search size={16} aria-hidden="true" />
        <input type="search" value={query} onChange={(e) => setQuery(e.target.value)} placeholder={t('chats.search')} aria-label={t('chats.search')} />
      </div>
      {loaded && conversations.length === 0 && !query ? (
        <div className="empty-state">
          <h2>{t('chats.empty')}</h2>
          <p className="muted">{t('chats.emptyHint')}</p>
          <button type="button" className="button button-primary" onClick={() => setCreating(true)}>
            <Plus size={18} aria-hidden="true" /> {t('chats.new')}
          </button>
        </div>
      ) : (
        <ul className="conversation-list" aria-label={t('chats.list')}>
          {conversations.map((c) => (
            <ConversationItem key={c.id} conversation={c} names={names} selected={c.id === selectedId} />
          ))}
        </ul>
      )}
      {creating && <NewChatDialog org={org} onClose={() => setCreating(false)} />}
      {switching && <TeamSwitcher org={org} orgs={orgs} onClose={() => setSwitching(false)} onCreateTeam={onCreateTeam} />}
    </section>
  );
}

function ConversationItem({ conversation: c, names, selected }: { conversation: Conversation; names: Map<string, string>; selected: boolean }) {
  const { t, locale } = useI18n();
  const { me } = useSession();
  const title = conversationTitle(c, names, t);
  const time = c.last_message?.created_at ?? c.created_at;
  const unread = c.unread_count;
  return (
    <li>
      <a
        href={`/c/${encodeURIComponent(c.id)}`}
        className={`conversation-item${unread > 0 ? ' has-unread' : ''}`}
        aria-current={selected ? 'page' : undefined}
        data-testid="conversation-item"
        onClick={(e) => {
          e.preventDefault();
          navigate({ name: 'chat', conversationId: c.id });
        }}
      >
        <Avatar id={c.kind === 'dm' ? (c.peer_id ?? c.id) : c.id} name={title} size="lg" group={c.kind === 'group'} />
        <span className="conversation-text">
          <span className="conversation-top">
            <span className="conversation-title">{title}</span>
            <time className="conversation-time" dateTime={time}>
              {formatListTime(time, locale, t)}
            </time>
          </span>
          <span className="conversation-bottom">
            <span className="conversation-preview">{previewText(c, names, me.id, t)}</span>
            {unread > 0 && (
              <span className="badge" data-testid="unread-badge">
                <span aria-hidden="true">{unread > 99 ? '99+' : unread}</span>
                <span className="visually-hidden">{t('chats.unread', { count: unread })}</span>
              </span>
            )}
          </span>
        </span>
      </a>
    </li>
  );
}

interface SwitcherProps {
  org: Org;
  orgs: Org[];
  onClose: () => void;
  onCreateTeam: () => void;
}

/** The phone's team switcher (the desktop has the rail). */
function TeamSwitcher({ org, orgs, onClose, onCreateTeam }: SwitcherProps) {
  const { t } = useI18n();
  return (
    <Dialog title={t('team.switch')} onClose={onClose}>
      <ul className="picker-list">
        {orgs.map((o) => (
          <li key={o.id}>
            <button
              type="button"
              className="picker-item"
              aria-pressed={o.id === org.id}
              onClick={() => {
                selectOrg(o.id);
                onClose();
              }}
            >
              <Avatar id={o.id} name={o.name} size="md" group />
              <span className="picker-name">{o.name}</span>
              {o.id === org.id && <Check size={18} aria-hidden="true" className="picker-check" />}
            </button>
          </li>
        ))}
      </ul>
      <button
        type="button"
        className="button button-secondary button-block"
        onClick={() => {
          onClose();
          onCreateTeam();
        }}
      >
        <Plus size={18} aria-hidden="true" /> {t('team.create')}
      </button>
    </Dialog>
  );
}
