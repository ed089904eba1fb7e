// DINGs received and sent; for a sent one, who has confirmed and who has not, live.
import { useQueryClient } from '@tanstack/react-query';
import { BellRing, Check } from 'lucide-react';
import { useState } from 'react';
import { useNames } from '../app/orgs';
import { useI18n } from '../i18n';
import { formatTime } from '../ui/format';
import { officeApi, type Ding, type DingBox } from './api';
import { officeError, officeKeys, useDings } from './hooks';

export function DingList({ orgId }: { orgId: string }) {
  const { t } = useI18n();
  const [box, setBox] = useState<DingBox>('sent');
  const { data: dings = [], isLoading } = useDings(orgId, box);
  return (
    <section className="stack" aria-label={t('ding.list')}>
      <div className="segmented" role="radiogroup" aria-label={t('ding.list')}>
        {(['sent', 'received'] as const).map((b) => (
          <button key={b} type="button" role="radio" aria-checked={box === b} onClick={() => setBox(b)}>
            {t(`ding.box.${b}`)}
          </button>
        ))}
      </div>
      {!isLoading && dings.length === 0 && <p className="muted">{t('office.box.empty')}</p>}
      <ul className="office-list">
        {dings.map((ding) => (
          <DingRow key={ding.id} ding={ding} sent={box === 'sent'} />
        ))}
      </ul>
    </section>
  );
}

function DingRow({ ding, sent }: { ding: Ding; sent: boolean }) {
  const { t, locale } = useI18n();
  const names = useNames(ding.org_id);
  const queryClient = useQueryClient();
  const [error, setError] = useState<string | null>(null);
  const confirmed = ding.recipients.filter((r) => r.confirmed_at).length;
  const reding = async () => {
    setError(null);
    try {
      await officeApi.reding(ding.id);
      void queryClient.invalidateQueries({ queryKey: officeKeys.dings(ding.org_id) });
    } catch (err) {
      setError(officeError(err, t));
    }
  };
  return (
    <li className="card stack" data-testid="ding-row">
      <div className="card-row">
        <BellRing size={18} aria-hidden="true" />
        <strong className="ding-row-text">{ding.text}</strong>
        <time className="muted small" dateTime={ding.created_at}>
          {formatTime(ding.created_at, locale)}
        </time>
      </div>
      {sent && (
        <>
          <p className="small" data-testid="ding-progress">
            {t('ding.progress', { confirmed, total: ding.recipient_count })}
          </p>
          <ul className="ding-recipients">
            {ding.recipients.map((r) => (
              <li key={r.user_id} className={r.confirmed_at ? 'ding-confirmed' : 'ding-unconfirmed'} data-testid="ding-recipient">
                {r.confirmed_at ? <Check size={14} aria-hidden="true" /> : <BellRing size={14} aria-hidden="true" />} {names.get(r.user_id) ?? r.user_id} —{' '}
                {r.confirmed_at ? t('ding.confirmed') : t('ding.unconfirmed')}
                {!r.confirmed_at && (
                  <span className="muted small">
                    {' '}
                    · {t(`ding.step.${r.last_step as 'in_app'}`)}
                    {r.next_step && r.next_step_at && ` · ${t('ding.nextStep', { step: t(`ding.step.${r.next_step}`), time: formatTime(r.next_step_at, locale) })}`}
                  </span>
                )}
              </li>
            ))}
          </ul>
          {confirmed < ding.recipient_count && (
            <button type="button" className="button button-secondary button-small" onClick={() => void reding()}>
              {t('ding.reding')}
            </button>
          )}
          {error && (
            <p className="form-error" role="alert">
              {error}
            </p>
          )}
        </>
      )}
    </li>
  );
}
