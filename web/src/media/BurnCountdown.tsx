import { Flame } from 'lucide-react';
import { useEffect, useState } from 'react';
import type { Message } from '../api/types';
import { useSession } from '../app/context';
import { useI18n } from '../i18n';
import { clockText, msUntilNextTick, secondsLeft } from './burn';

/**
 * The reader's countdown on an opened burn-after-reading message. At zero the content goes
 * here at once; the server purges it for everyone and sends message.burned when all are done.
 */
export function BurnCountdown({ message }: { message: Message }) {
  const { t } = useI18n();
  const session = useSession();
  const expiresAt = message.burn_expires_at ?? null;
  const [now, setNow] = useState(() => Date.now());
  const left = secondsLeft(expiresAt, now);

  useEffect(() => {
    if (!expiresAt || left === 0) return;
    const timer = setTimeout(() => setNow(Date.now()), msUntilNextTick(expiresAt, Date.now()) + 5);
    return () => clearTimeout(timer);
  }, [expiresAt, left, now]);

  useEffect(() => {
    if (left !== 0) return;
    session.store.dispatch({ kind: 'message.stored', message: { ...message, text: '', mentions: [], media: [], burned: true } });
  }, [left, message, session]);

  if (left === null) {
    // The sender's copy: the timer runs on each reader's side.
    return message.burn_after_s != null ? (
      <span className="burn-timer" title={t('burn.afterReading', { seconds: message.burn_after_s })} data-testid="burn-after">
        <Flame size={12} aria-hidden="true" />
        <span aria-hidden="true">{t('burn.seconds', { seconds: message.burn_after_s })}</span>
        <span className="visually-hidden">{t('burn.afterReading', { seconds: message.burn_after_s })}</span>
      </span>
    ) : null;
  }
  return (
    <span className="burn-timer burn-countdown" role="timer" aria-label={t('burn.left', { time: clockText(left) })} data-testid="burn-countdown">
      <Flame size={12} aria-hidden="true" /> {clockText(left)}
    </span>
  );
}
