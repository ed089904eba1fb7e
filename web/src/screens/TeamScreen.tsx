import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Building2, Check, Copy, Link2, MessageCircle, Plus, Search, Share2 } from 'lucide-react';
import { useId, useMemo, useState } from 'react';
import { api } from '../api/endpoints';
import type { Department, Invite, Org, OrgMember } from '../api/types';
import { useSession } from '../app/context';
import { isAdmin, useDepartments, useOrgMembers } from '../app/orgs';
import { navigate } from '../app/router';
import { useI18n } from '../i18n';
import { AlbumsCard } from '../albums/AlbumsCard';
import { Avatar } from '../ui/Avatar';
import { errorText } from '../ui/format';

export function inviteUrl(code: string): string {
  return `${window.location.origin}/join/${encodeURIComponent(code)}`;
}

export function TeamScreen({ org }: { org: Org }) {
  const { t } = useI18n();
  const session = useSession();
  const queryClient = useQueryClient();
  const { data: members = [] } = useOrgMembers(org.id);
  const { data: departments = [] } = useDepartments(org.id);
  const admin = isAdmin(org);
  const [query, setQuery] = useState('');
  const [error, setError] = useState<string | null>(null);

  const updateMember = useMutation({
    mutationFn: ({ userId, departmentId }: { userId: string; departmentId: string | null }) =>
      api.updateOrgMember(org.id, userId, { department_id: departmentId }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['orgMembers', org.id] }),
    onError: (err) => setError(errorText(err, t)),
  });

  const groups = useMemo(() => {
    const q = query.trim().toLowerCase();
    const visible = members.filter((m) => !q || m.display_name.toLowerCase().includes(q) || m.email.toLowerCase().includes(q));
    const byDept = new Map<string | null, OrgMember[]>();
    for (const m of visible) {
      const key = departments.some((d) => d.id === m.department_id) ? m.department_id : null;
      byDept.set(key, [...(byDept.get(key) ?? []), m]);
    }
    const sections = departments
      .map((d) => ({ id: d.id, name: d.name, members: byDept.get(d.id) ?? [] }))
      .sort((a, b) => a.name.localeCompare(b.name));
    sections.push({ id: '', name: t('team.noDepartment'), members: byDept.get(null) ?? [] });
    return sections.filter((s) => s.members.length > 0 || (admin && s.id !== '' && !q));
  }, [members, departments, query, t, admin]);

  const startDm = async (userId: string) => {
    try {
      const conv = await api.createConversation(org.id, { kind: 'dm', member_ids: [userId] });
      session.store.dispatch({ kind: 'conversation.loaded', conversation: conv });
      navigate({ name: 'chat', conversationId: conv.id });
    } catch (err) {
      setError(errorText(err, t));
    }
  };

  const roleLabel = (role: string) => (role === 'owner' ? t('team.role.owner') : role === 'admin' ? t('team.role.admin') : t('team.role.member'));

  return (
    <div className="page">
      <header className="page-header">
        <Avatar id={org.id} name={org.name} size="xl" group />
        <div>
          <h1>{org.name}</h1>
          <p className="muted">
            {members.length === 1 ? t('team.membersCountOne') : t('team.membersCount', { count: members.length })} · {roleLabel(org.role)}
          </p>
        </div>
      </header>

      <div className="page-grid">
        <div className="page-col">
          {admin ? <InviteCard org={org} /> : <p className="notice">{t('team.onlyAdminsInvite')}</p>}
          {admin && <DepartmentForm org={org} />}
          <AlbumsCard org={org} />
        </div>

        <section className="card page-col-wide" aria-labelledby="team-members">
          <div className="card-head">
            <h2 id="team-members">{t('team.members')}</h2>
            <div className="search search-compact">
              <Search size={16} aria-hidden="true" />
              <input type="search" value={query} onChange={(e) => setQuery(e.target.value)} placeholder={t('team.searchMembers')} aria-label={t('team.searchMembers')} />
            </div>
          </div>
          {error && (
            <p className="form-error" role="alert">
              {error}
            </p>
          )}
          {groups.map((section) => (
            <section key={section.id || 'none'} className="dept-section" aria-label={section.name}>
              <h3 className="dept-title">
                <Building2 size={15} aria-hidden="true" /> {section.name} <span className="muted">{section.members.length}</span>
              </h3>
              <ul className="member-list">
                {section.members.map((m) => (
                  <MemberRow
                    key={m.user_id}
                    member={m}
                    me={m.user_id === session.me.id}
                    departments={admin ? departments : []}
                    roleLabel={roleLabel}
                    onDepartment={(departmentId) => updateMember.mutate({ userId: m.user_id, departmentId })}
                    onMessage={() => startDm(m.user_id)}
                  />
                ))}
              </ul>
            </section>
          ))}
        </section>
      </div>
    </div>
  );
}

function InviteCard({ org }: { org: Org }) {
  const { t } = useI18n();
  const [invite, setInvite] = useState<Invite | null>(null);
  const [copied, setCopied] = useState(false);
  const inputId = useId();
  const create = useMutation({ mutationFn: () => api.createInvite(org.id, { role: 'member' }), onSuccess: setInvite });
  const url = invite ? inviteUrl(invite.code) : '';

  const copy = async () => {
    try {
      await navigator.clipboard.writeText(url);
    } catch {
      // Clipboard blocked (insecure context): select the text so Ctrl+C works.
      (document.getElementById(inputId) as HTMLInputElement | null)?.select();
    }
    setCopied(true);
    setTimeout(() => setCopied(false), 2000);
  };

  return (
    <section className="card invite-card" aria-labelledby="invite-title">
      <div className="card-icon" aria-hidden="true">
        <Link2 size={20} />
      </div>
      <h2 id="invite-title">{t('team.invite')}</h2>
      <p className="muted">{t('team.inviteHint', { team: org.name })}</p>
      {invite ? (
        <div className="stack">
          <label htmlFor={inputId} className="visually-hidden">
            {t('team.inviteLink')}
          </label>
          <input id={inputId} className="invite-url" readOnly value={url} onFocus={(e) => e.currentTarget.select()} data-testid="invite-url" />
          <div className="button-row">
            <button type="button" className="button button-primary" onClick={copy}>
              {copied ? <Check size={16} aria-hidden="true" /> : <Copy size={16} aria-hidden="true" />}
              {copied ? t('team.copied') : t('team.copy')}
            </button>
            {'share' in navigator && (
              <button type="button" className="button button-secondary" onClick={() => navigator.share({ title: org.name, url }).catch(() => undefined)}>
                <Share2 size={16} aria-hidden="true" /> {t('team.share')}
              </button>
            )}
          </div>
          <span className="visually-hidden" role="status">
            {copied ? t('team.copied') : ''}
          </span>
        </div>
      ) : (
        <button type="button" className="button button-primary button-block" onClick={() => create.mutate()} disabled={create.isPending}>
          <Link2 size={16} aria-hidden="true" /> {t('team.inviteCreate')}
        </button>
      )}
      {create.isError && (
        <p className="form-error" role="alert">
          {errorText(create.error, t)}
        </p>
      )}
    </section>
  );
}

function DepartmentForm({ org }: { org: Org }) {
  const { t } = useI18n();
  const queryClient = useQueryClient();
  const [name, setName] = useState('');
  const id = useId();
  const create = useMutation({
    mutationFn: () => api.createDepartment(org.id, name.trim()),
    onSuccess: async () => {
      setName('');
      await queryClient.invalidateQueries({ queryKey: ['departments', org.id] });
    },
  });
  return (
    <section className="card" aria-labelledby="dept-title">
      <h2 id="dept-title">{t('team.departments')}</h2>
      <form
        className="input-row"
        onSubmit={(e) => {
          e.preventDefault();
          if (name.trim()) create.mutate();
        }}
      >
        <label htmlFor={id} className="visually-hidden">
          {t('team.departmentName')}
        </label>
        <input id={id} value={name} maxLength={100} placeholder={t('team.newDepartment')} onChange={(e) => setName(e.target.value)} />
        <button type="submit" className="button button-secondary" disabled={!name.trim() || create.isPending}>
          <Plus size={16} aria-hidden="true" /> {t('team.addDepartment')}
        </button>
      </form>
      {create.isError && (
        <p className="form-error" role="alert">
          {errorText(create.error, t)}
        </p>
      )}
    </section>
  );
}

interface MemberRowProps {
  member: OrgMember;
  me: boolean;
  /** The departments an admin may assign; empty for members (no picker then). */
  departments: Department[];
  roleLabel: (role: string) => string;
  onDepartment: (departmentId: string | null) => void;
  onMessage: () => void;
}

function MemberRow({ member: m, me, departments, roleLabel, onDepartment, onMessage }: MemberRowProps) {
  const { t } = useI18n();
  return (
    <li className="member-row" data-testid="team-member">
      <Avatar id={m.user_id} name={m.display_name} size="md" />
      <div className="member-text">
        <span className="member-name">
          {m.display_name}
          {me && <span className="muted"> ({t('team.you')})</span>}
          {m.role !== 'member' && <span className="chip">{roleLabel(m.role)}</span>}
        </span>
        <span className="member-email">{m.email}</span>
      </div>
      {departments.length > 0 && (
        <label className="dept-select">
          <span className="visually-hidden">{t('team.setDepartment', { name: m.display_name })}</span>
          <select value={m.department_id ?? ''} onChange={(e) => onDepartment(e.target.value || null)}>
            <option value="">{t('team.noDepartment')}</option>
            {departments.map((d) => (
              <option key={d.id} value={d.id}>
                {d.name}
              </option>
            ))}
          </select>
        </label>
      )}
      {!me && (
        <button type="button" className="icon-button icon-button-tinted" onClick={onMessage} aria-label={t('team.message', { name: m.display_name })}>
          <MessageCircle size={18} aria-hidden="true" />
        </button>
      )}
    </li>
  );
}
