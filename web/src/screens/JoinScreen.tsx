import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Users } from 'lucide-react';
import { api } from '../api/endpoints';
import { selectOrg } from '../app/orgs';
import { navigate } from '../app/router';
import { useI18n } from '../i18n';
import { Logo } from '../ui/Logo';
import { errorText } from '../ui/format';

/** /join/<code>: shows which team the link is for and joins it. */
export function JoinScreen({ code }: { code: string }) {
  const { t } = useI18n();
  const queryClient = useQueryClient();
  const preview = useQuery({ queryKey: ['invitePreview', code], queryFn: () => api.previewInvite(code), retry: false });
  const accept = useMutation({
    mutationFn: () => api.acceptInvite(code),
    onSuccess: async (result) => {
      selectOrg(result.org_id);
      await queryClient.invalidateQueries({ queryKey: ['orgs'] });
      navigate({ name: 'chats' }, { replace: true });
    },
  });
  const roleName = (role: string) => (role === 'admin' ? t('team.role.admin') : t('team.role.member'));

  return (
    <main className="centered-page">
      <div className="card join-card">
        <Logo size={48} />
        {preview.isLoading && <p className="muted">{t('common.loading')}</p>}
        {preview.isError && (
          <>
            <h1>{t('join.invalid')}</h1>
            <p className="muted">{t('join.ask')}</p>
            <button type="button" className="button button-secondary" onClick={() => navigate({ name: 'chats' })}>
              {t('join.goHome')}
            </button>
          </>
        )}
        {preview.data && (
          <>
            <p className="eyebrow">{t('join.title')}</p>
            <div className="join-team">
              <span className="join-team-icon" aria-hidden="true">
                <Users size={24} />
              </span>
              <h1>{preview.data.org_name}</h1>
            </div>
            <p className="muted">{t('join.body', { team: preview.data.org_name, role: roleName(preview.data.role) })}</p>
            {accept.isError && (
              <p className="form-error" role="alert">
                {errorText(accept.error, t)}
              </p>
            )}
            <button type="button" className="button button-primary button-block" onClick={() => accept.mutate()} disabled={accept.isPending}>
              {t('join.accept')}
            </button>
            <button type="button" className="button button-ghost button-block" onClick={() => navigate({ name: 'chats' })}>
              {t('join.notNow')}
            </button>
          </>
        )}
      </div>
    </main>
  );
}
