import { LogOut, UserPlus, X } from 'lucide-react';
import { useId, useMemo, useState } from 'react';
import { api } from '../api/endpoints';
import type { Conversation, OrgMember } from '../api/types';
import { useChat, useSession } from '../app/context';
import { useOrgMembers } from '../app/orgs';
import { navigate } from '../app/router';
import { useI18n } from '../i18n';
import { Avatar } from '../ui/Avatar';
import { Dialog } from '../ui/Dialog';
import { errorText } from '../ui/format';

interface Props {
  conversation: Conversation;
  title: string;
  names: Map<string, string>;
  onClose: () => void;
  asPanel: boolean;
}

export function GroupInfo({ conversation, title, names, onClose, asPanel }: Props) {
  const { t } = useI18n();
  const session = useSession();
  const members = useChat((s) => s.members[conversation.id]);
  const { data: orgMembers = [] } = useOrgMembers(conversation.org_id);
  const [adding, setAdding] = useState(false);
  const [name, setName] = useState(conversation.title ?? '');
  const [error, setError] = useState<string | null>(null);
  const nameId = useId();
  const group = conversation.kind === 'group';

  const list = useMemo(
    () => Object.values(members?.byId ?? {}).sort((a, b) => (names.get(a.user_id) ?? a.display_name).localeCompare(names.get(b.user_id) ?? b.display_name)),
    [members, names],
  );
  const addable = orgMembers.filter((m) => !members?.byId[m.user_id]);

  const run = async (action: () => Promise<unknown>) => {
    setError(null);
    try {
      await action();
      return true;
    } catch (err) {
      setError(errorText(err, t));
      return false;
    }
  };

  const rename = () =>
    run(async () => {
      const updated = await api.renameConversation(conversation.id, name.trim());
      session.store.dispatch({ kind: 'conversation.loaded', conversation: { ...conversation, title: updated.title } });
    });

  const add = async (picked: string[]) => {
    if (await run(() => api.addConversationMembers(conversation.id, picked))) {
      setAdding(false);
      await session.loadMembers(conversation.id);
    }
  };

  const leave = async () => {
    if (!window.confirm(t('info.leaveConfirm'))) return;
    if (await run(() => api.removeConversationMember(conversation.id, session.me.id))) {
      session.store.dispatch({ kind: 'conversation.removed', conversationId: conversation.id });
      navigate({ name: 'chats' });
    }
  };

  const body = (
    <>
      <div className="info-hero">
        <Avatar id={group ? conversation.id : (conversation.peer_id ?? conversation.id)} name={title} size="xl" group={group} />
        <h2>{title}</h2>
      </div>
      {group && (
        <form
          className="info-block"
          onSubmit={(e) => {
            e.preventDefault();
            if (name.trim() && name.trim() !== conversation.title) void rename();
          }}
        >
          <label htmlFor={nameId}>{t('info.rename')}</label>
          <div className="input-row">
            <input id={nameId} value={name} maxLength={100} onChange={(e) => setName(e.target.value)} />
            <button type="submit" className="button button-secondary" disabled={!name.trim() || name.trim() === conversation.title}>
              {t('info.save')}
            </button>
          </div>
        </form>
      )}
      <section className="info-block" aria-labelledby="info-members">
        <div className="info-block-head">
          <h3 id="info-members">{t('info.members', { count: list.length || conversation.member_count })}</h3>
          {group && (
            <button type="button" className="button button-ghost button-small" onClick={() => setAdding(true)}>
              <UserPlus size={16} aria-hidden="true" /> {t('info.addMembers')}
            </button>
          )}
        </div>
        <ul className="people-list">
          {list.map((m) => {
            const display = names.get(m.user_id) ?? m.display_name;
            return (
              <li key={m.user_id} className="person">
                <Avatar id={m.user_id} name={display} size="sm" />
                <span>
                  {display}
                  {m.user_id === session.me.id && <span className="muted"> ({t('team.you')})</span>}
                </span>
                {m.role === 'owner' && group && <span className="chip">{t('info.owner')}</span>}
              </li>
            );
          })}
        </ul>
      </section>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      {group && (
        <button type="button" className="button button-danger-ghost button-block" onClick={leave}>
          <LogOut size={16} aria-hidden="true" /> {t('info.leave')}
        </button>
      )}
      {adding && <AddMembersDialog candidates={addable} onAdd={add} onClose={() => setAdding(false)} />}
    </>
  );

  if (!asPanel) {
    return (
      <Dialog title={group ? t('info.title') : t('info.dmTitle')} onClose={onClose}>
        {body}
      </Dialog>
    );
  }
  return (
    <aside className="info-panel" aria-labelledby="info-panel-title">
      <header className="pane-header">
        <h2 id="info-panel-title">{group ? t('info.title') : t('info.dmTitle')}</h2>
        <button type="button" className="icon-button" onClick={onClose} aria-label={t('info.close')}>
          <X size={20} aria-hidden="true" />
        </button>
      </header>
      <div className="info-panel-body">{body}</div>
    </aside>
  );
}

interface AddProps {
  candidates: OrgMember[];
  onAdd: (userIds: string[]) => void;
  onClose: () => void;
}

function AddMembersDialog({ candidates, onAdd, onClose }: AddProps) {
  const { t } = useI18n();
  const [picked, setPicked] = useState<string[]>([]);
  const toggle = (id: string) => setPicked((p) => (p.includes(id) ? p.filter((x) => x !== id) : [...p, id]));
  return (
    <Dialog
      title={t('info.addMembers')}
      onClose={onClose}
      footer={
        <button type="button" className="button button-primary button-block" disabled={picked.length === 0} onClick={() => onAdd(picked)}>
          {t('info.add')}
        </button>
      }
    >
      {candidates.length === 0 ? (
        <p className="muted">{t('info.everyoneIsHere')}</p>
      ) : (
        <ul className="picker-list">
          {candidates.map((m) => (
            <li key={m.user_id}>
              <button type="button" className="picker-item" aria-pressed={picked.includes(m.user_id)} onClick={() => toggle(m.user_id)}>
                <Avatar id={m.user_id} name={m.display_name} size="md" />
                <span className="picker-name">{m.display_name}</span>
                <span className={`checkbox${picked.includes(m.user_id) ? ' checked' : ''}`} aria-hidden="true" />
              </button>
            </li>
          ))}
        </ul>
      )}
    </Dialog>
  );
}
