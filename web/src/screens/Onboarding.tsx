import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useId, useState, type FormEvent } from 'react';
import { api } from '../api/endpoints';
import { useSession } from '../app/context';
import { selectOrg } from '../app/orgs';
import { navigate } from '../app/router';
import { useI18n } from '../i18n';
import { Logo } from '../ui/Logo';
import { errorText } from '../ui/format';

/** The code from an invite link, or the code itself if that is what was pasted. */
export function inviteCodeFrom(input: string): string | null {
  const text = input.trim();
  if (!text) return null;
  const match = /\/join\/([^/?#\s]+)/.exec(text);
  if (match) return decodeURIComponent(match[1]!);
  return /^[\w-]{4,200}$/.test(text) ? text : null;
}

export function CreateTeamForm({ onCreated }: { onCreated?: () => void }) {
  const { t } = useI18n();
  const queryClient = useQueryClient();
  const [name, setName] = useState('');
  const id = useId();
  const create = useMutation({
    mutationFn: () => api.createOrg(name.trim()),
    onSuccess: async (org) => {
      selectOrg(org.id);
      await queryClient.invalidateQueries({ queryKey: ['orgs'] });
      setName('');
      onCreated?.();
      navigate({ name: 'team' });
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (name.trim()) create.mutate();
  };
  return (
    <form onSubmit={submit} className="stack">
      <div className="field">
        <label htmlFor={id}>{t('team.name')}</label>
        <input id={id} value={name} maxLength={100} required placeholder={t('team.namePlaceholder')} onChange={(e) => setName(e.target.value)} />
      </div>
      {create.isError && (
        <p className="form-error" role="alert">
          {errorText(create.error, t)}
        </p>
      )}
      <button className="button button-primary button-block" type="submit" disabled={create.isPending || !name.trim()}>
        {t('team.createSubmit')}
      </button>
    </form>
  );
}

export function Onboarding() {
  const { t } = useI18n();
  const { me } = useSession();
  const [link, setLink] = useState('');
  const linkId = useId();
  const code = inviteCodeFrom(link);
  return (
    <main className="centered-page">
      <div className="card onboarding-card">
        <Logo size={48} />
        <h1>{t('onboarding.title', { name: me.display_name })}</h1>
        <p className="muted">{t('onboarding.subtitle')}</p>
        <CreateTeamForm />
        <div className="divider" role="separator" />
        <form
          className="stack"
          onSubmit={(e) => {
            e.preventDefault();
            if (code) navigate({ name: 'join', code });
          }}
        >
          <div className="field">
            <label htmlFor={linkId}>{t('onboarding.haveInvite')}</label>
            <div className="input-row">
              <input id={linkId} value={link} placeholder={t('onboarding.pasteInvite')} onChange={(e) => setLink(e.target.value)} />
              <button type="submit" className="button button-secondary" disabled={!code}>
                {t('onboarding.join')}
              </button>
            </div>
          </div>
        </form>
      </div>
    </main>
  );
}
