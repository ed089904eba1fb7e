// The loud in-app step of a DING: a full-screen alert that stays until the person confirms.
import { useQueryClient } from '@tanstack/react-query';
import { BellRing } from 'lucide-react';
import { useEffect, useRef, useState } from 'react';
import { useNames } from '../app/orgs';
import { useI18n } from '../i18n';
import { formatTime } from '../ui/format';
import { officeApi } from './api';
import { officeError, officeKeys, useDingAlerts } from './hooks';

export function DingAlert({ orgId }: { orgId: string }) {
  const { t, locale } = useI18n();
  const queryClient = useQueryClient();
  const { data: waiting = [] } = useDingAlerts(orgId);
  const names = useNames(orgId);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const confirmButton = useRef<HTMLButtonElement>(null);
  const ding = waiting[0];

  useEffect(() => {
    if (!ding) return;
    confirmButton.current?.focus();
    ring();
  }, [ding?.id]); // eslint-disable-line react-hooks/exhaustive-deps

  if (!ding) return null;
  const confirm = async () => {
    setBusy(true);
    setError(null);
    try {
      const confirmed = await officeApi.confirmDing(ding.id);
      queryClient.setQueryData(officeKeys.ding(confirmed.id), confirmed);
      await queryClient.invalidateQueries({ queryKey: officeKeys.dings(orgId) });
    } catch (err) {
      setError(officeError(err, t));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="ding-alert" role="alertdialog" aria-modal="true" aria-labelledby="ding-alert-title" data-testid="ding-alert">
      <div className="ding-alert-inner">
        <BellRing size={56} aria-hidden="true" className="ding-bell" />
        <h2 id="ding-alert-title">{t('ding.alertFrom', { name: names.get(ding.sender_id) ?? '…' })}</h2>
        <p className="ding-text" data-testid="ding-text">
          {ding.text}
        </p>
        <p className="small">{formatTime(ding.created_at, locale)}</p>
        {error && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
        <button ref={confirmButton} type="button" className="button button-primary button-block" disabled={busy} onClick={() => void confirm()}>
          {t('ding.confirm')}
        </button>
        {waiting.length > 1 && <p className="small">{t('ding.more', { count: waiting.length - 1 })}</p>}
      </div>
    </div>
  );
}

/** A short two-tone ring and a vibration, where the device allows (browsers may refuse sound
 * before the first tap; the alert itself is what matters). */
function ring(): void {
  navigator.vibrate?.([300, 150, 300]);
  try {
    const audio = new AudioContext();
    const gain = audio.createGain();
    gain.gain.value = 0.2;
    gain.connect(audio.destination);
    [880, 660, 880].forEach((hz, i) => {
      const osc = audio.createOscillator();
      osc.frequency.value = hz;
      osc.connect(gain);
      osc.start(audio.currentTime + i * 0.25);
      osc.stop(audio.currentTime + i * 0.25 + 0.2);
    });
    setTimeout(() => void audio.close(), 1500);
  } catch {
    // No audio here: the alert still shows.
  }
}
