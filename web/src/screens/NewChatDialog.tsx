import { Check, Search } from 'lucide-react';
import { useId, useMemo, useState } from 'react';
import { api } from '../api/endpoints';
import type { Org } from '../api/types';
import { useSession } from '../app/context';
import { useOrgMembers } from '../app/orgs';
import { navigate } from '../app/router';
import { useI18n } from '../i18n';
import { Avatar } from '../ui/Avatar';
import { Dialog } from '../ui/Dialog';
import { errorText } from '../ui/format';

export function NewChatDialog({ org, onClose }: { org: Org; onClose: () => void }) {
  const { t } = useI18n();
  const session = useSession();
  const { data: members = [] } = useOrgMembers(org.id);
  const [selected, setSelected] = useState<string[]>([]);
  const [title, setTitle] = useState('');
  const [query, setQuery] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const titleId = useId();

  const others = useMemo(() => {
    const q = query.trim().toLowerCase();
    return members
      .filter((m) => m.user_id !== session.me.id)
      .filter((m) => !q || m.display_name.toLowerCase().includes(q) || m.email.toLowerCase().includes(q))
      .sort((a, b) => a.display_name.localeCompare(b.display_name));
  }, [members, query, session.me.id]);

  const toggle = (id: string) => setSelected((s) => (s.includes(id) ? s.filter((x) => x !== id) : [...s, id]));
  const group = selected.length > 1;

  const start = async () => {
    setBusy(true);
    setError(null);
    try {
      const conv = await api.createConversation(org.id, {
        kind: group ? 'group' : 'dm',
        member_ids: selected,
        title: group && title.trim() ? title.trim() : undefined,
      });
      session.store.dispatch({ kind: 'conversation.loaded', conversation: conv });
      onClose();
      navigate({ name: 'chat', conversationId: conv.id });
    } catch (err) {
      setError(errorText(err, t));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog
      title={t('newChat.title')}
      onClose={onClose}
      footer={
        <button type="button" className="button button-primary button-block" disabled={selected.length === 0 || busy} onClick={start}>
          {group ? t('newChat.startGroup', { count: selected.length + 1 }) : t('newChat.start')}
        </button>
      }
    >
      <p className="muted">{t('newChat.hint')}</p>
      {members.length > 0 && others.length === 0 && !query ? (
        <p className="notice">{t('newChat.nobody')}</p>
      ) : (
        <>
          <div className="search">
            <Search size={16} aria-hidden="true" />
            <input type="search" value={query} onChange={(e) => setQuery(e.target.value)} placeholder={t('team.searchMembers')} aria-label={t('team.searchMembers')} />
          </div>
          {group && (
            <div className="field">
              <label htmlFor={titleId}>{t('newChat.groupTitle')}</label>
              <input id={titleId} value={title} maxLength={100} onChange={(e) => setTitle(e.target.value)} />
            </div>
          )}
          <ul className="picker-list" aria-label={t('newChat.selected', { count: selected.length })}>
            {others.map((m) => (
              <li key={m.user_id}>
                <button type="button" className="picker-item" aria-pressed={selected.includes(m.user_id)} onClick={() => toggle(m.user_id)}>
                  <Avatar id={m.user_id} name={m.display_name} size="md" />
                  <span className="picker-name">
                    {m.display_name}
                    <small>{m.email}</small>
                  </span>
                  <span className={`checkbox${selected.includes(m.user_id) ? ' checked' : ''}`} aria-hidden="true">
                    {selected.includes(m.user_id) && <Check size={14} />}
                  </span>
                </button>
              </li>
            ))}
          </ul>
        </>
      )}
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
    </Dialog>
  );
}
