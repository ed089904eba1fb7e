import { Check, LogOut, Plus } from 'lucide-react';
import { useConnectionStatus, useSession } from '../app/context';
import { useCurrentOrg } from '../app/orgs';
import { navigate } from '../app/router';
import { LOCALES, useI18n } from '../i18n';
import { Avatar } from '../ui/Avatar';

export function MeScreen({ onLogout, onCreateTeam }: { onLogout: () => void; onCreateTeam: () => void }) {
  const { t, locale, setLocale } = useI18n();
  const { me } = useSession();
  const status = useConnectionStatus();
  const { org, orgs, select } = useCurrentOrg();
  const statusText = status === 'online' ? t('me.online') : status === 'connecting' ? t('me.connecting') : t('me.offline');

  return (
    <div className="page page-narrow">
      <header className="page-header profile">
        <Avatar id={me.id} name={me.display_name} size="xl" />
        <div>
          <h1>{me.display_name}</h1>
          <p className="muted">{me.email}</p>
        </div>
      </header>

      <section className="card" aria-labelledby="me-teams">
        <h2 id="me-teams">{t('me.teams')}</h2>
        <ul className="picker-list">
          {orgs.map((o) => (
            <li key={o.id}>
              <button
                type="button"
                className="picker-item"
                aria-pressed={o.id === org?.id}
                onClick={() => {
                  select(o.id);
                  navigate({ name: 'chats' });
                }}
              >
                <Avatar id={o.id} name={o.name} size="md" group />
                <span className="picker-name">{o.name}</span>
                {o.id === org?.id && <Check size={18} aria-hidden="true" className="picker-check" />}
              </button>
            </li>
          ))}
        </ul>
        <button type="button" className="button button-ghost" onClick={onCreateTeam}>
          <Plus size={16} aria-hidden="true" /> {t('team.create')}
        </button>
      </section>

      <section className="card" aria-labelledby="me-language">
        <h2 id="me-language">{t('me.language')}</h2>
        <div className="segmented" role="radiogroup" aria-labelledby="me-language">
          {LOCALES.map((l) => (
            <button key={l.id} type="button" role="radio" aria-checked={locale === l.id} lang={l.id} onClick={() => setLocale(l.id)}>
              {l.label}
            </button>
          ))}
        </div>
      </section>

      <section className="card card-row" aria-label={t('me.connection')}>
        <span>{t('me.connection')}</span>
        <span className={`status-pill status-${status}`}>
          <span className="status-dot" aria-hidden="true" /> {statusText}
        </span>
      </section>

      <button type="button" className="button button-danger-ghost button-block" onClick={onLogout}>
        <LogOut size={18} aria-hidden="true" /> {t('me.logout')}
      </button>
      <p className="muted small center">{t('me.about')}</p>
    </div>
  );
}
