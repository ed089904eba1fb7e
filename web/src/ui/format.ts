import type { Locale } from '../i18n';
import type { Translate } from '../i18n';
import { dayLabel } from '../lib/days';

export function formatTime(iso: string, locale: Locale): string {
  return new Date(iso).toLocaleTimeString(locale, { hour: '2-digit', minute: '2-digit' });
}

/** Short time for the conversation list: time today, weekday this week, else a date. */
export function formatListTime(iso: string, locale: Locale, t: Translate, now = new Date()): string {
  const date = new Date(iso);
  const label = dayLabel(date, now);
  switch (label.kind) {
    case 'today':
      return formatTime(iso, locale);
    case 'yesterday':
      return t('chat.yesterday');
    case 'weekday':
      return date.toLocaleDateString(locale, { weekday: 'short' });
    case 'date':
      return date.toLocaleDateString(locale, label.withYear ? { year: 'numeric', month: 'numeric', day: 'numeric' } : { month: 'short', day: 'numeric' });
  }
}

export function formatDay(date: Date, locale: Locale, t: Translate, now = new Date()): string {
  const label = dayLabel(date, now);
  switch (label.kind) {
    case 'today':
      return t('chat.today');
    case 'yesterday':
      return t('chat.yesterday');
    case 'weekday':
      return date.toLocaleDateString(locale, { weekday: 'long' });
    case 'date':
      return date.toLocaleDateString(locale, label.withYear ? { year: 'numeric', month: 'long', day: 'numeric' } : { month: 'long', day: 'numeric', weekday: 'short' });
  }
}

export function errorText(err: unknown, t: Translate): string {
  const code = (err as { code?: string } | null)?.code;
  const status = (err as { status?: number | null } | null)?.status;
  if (status === null) return t('error.network');
  switch (code) {
    case 'invalid_credentials':
      return t('auth.error.invalid_credentials');
    case 'email_taken':
      return t('auth.error.email_taken');
    case 'rate_limited':
      return t('auth.error.rate_limited');
    case 'forbidden':
      return t('error.forbidden');
    case 'not_found':
      return t('error.not_found');
    case 'recall_window_passed':
      return t('error.recall_window_passed');
    default: {
      const message = (err as { message?: string } | null)?.message;
      return code === 'invalid_request' && message ? message : t('error.generic');
    }
  }
}
