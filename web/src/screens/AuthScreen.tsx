import { Eye, ShieldCheck, Zap } from 'lucide-react';
import { useId, useState, type FormEvent } from 'react';
import { api } from '../api/endpoints';
import type { AuthResult } from '../api/types';
import { navigate } from '../app/router';
import { LOCALES, useI18n } from '../i18n';
import { Logo } from '../ui/Logo';
import { errorText } from '../ui/format';

interface Props {
  mode: 'login' | 'signup';
  inviteCode: string | null;
  onAuthenticated: (result: AuthResult) => void;
}

export function AuthScreen({ mode, inviteCode, onAuthenticated }: Props) {
  const { t, locale, setLocale } = useI18n();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [name, setName] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const ids = { email: useId(), password: useId(), name: useId(), error: useId(), pwHint: useId(), nameHint: useId() };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const result =
        mode === 'signup' ? await api.register({ email, password, display_name: name.trim() }) : await api.login({ email, password });
      onAuthenticated(result);
    } catch (err) {
      setError(errorText(err, t));
    } finally {
      setBusy(false);
    }
  };

  const signup = mode === 'signup';
  return (
    <div className="auth">
      <aside className="auth-brand" aria-hidden="true">
        <div className="auth-brand-inner">
          <div className="auth-logo">
            <Logo size={44} />
            <span>Knock</span>
          </div>
          <p className="auth-tagline">{t('app.tagline')}</p>
          <ul className="auth-features">
            <li>
              <Zap size={20} /> {t('auth.feature.realtime')}
            </li>
            <li>
              <Eye size={20} /> {t('auth.feature.receipts')}
            </li>
            <li>
              <ShieldCheck size={20} /> {t('auth.feature.selfhost')}
            </li>
          </ul>
          <div className="auth-preview">
            <div className="preview-bubble preview-in">{t('auth.preview.in')}</div>
            <div className="preview-bubble preview-out">{t('auth.preview.out')}</div>
            <div className="preview-receipt">{t('receipt.allRead')}</div>
          </div>
        </div>
      </aside>
      <main className="auth-main">
        <div className="auth-top">
          <div className="auth-mobile-logo">
            <Logo size={32} />
            <span>Knock</span>
          </div>
          <label className="lang-select">
            <span className="visually-hidden">{t('me.language')}</span>
            <select value={locale} onChange={(e) => setLocale(e.target.value as typeof locale)}>
              {LOCALES.map((l) => (
                <option key={l.id} value={l.id}>
                  {l.label}
                </option>
              ))}
            </select>
          </label>
        </div>
        <p className="auth-mobile-tagline">{t('app.tagline')}</p>
        <form className="auth-card" onSubmit={submit} aria-describedby={error ? ids.error : undefined} noValidate={false}>
          {inviteCode && (
            <p className="auth-invite" role="status">
              {t('auth.inviteBanner')}
            </p>
          )}
          <h1>{signup ? t('auth.signup.title') : t('auth.login.title')}</h1>
          <p className="muted">{signup ? t('auth.signup.subtitle') : t('auth.login.subtitle')}</p>
          {signup && (
            <div className="field">
              <label htmlFor={ids.name}>{t('auth.displayName')}</label>
              <input
                id={ids.name}
                name="display_name"
                autoComplete="name"
                required
                maxLength={64}
                value={name}
                onChange={(e) => setName(e.target.value)}
                aria-describedby={ids.nameHint}
              />
              <small id={ids.nameHint}>{t('auth.displayNameHint')}</small>
            </div>
          )}
          <div className="field">
            <label htmlFor={ids.email}>{t('auth.email')}</label>
            <input id={ids.email} name="email" type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor={ids.password}>{t('auth.password')}</label>
            <input
              id={ids.password}
              name="password"
              type="password"
              autoComplete={signup ? 'new-password' : 'current-password'}
              required
              minLength={signup ? 8 : undefined}
              maxLength={256}
              value={password}
              onChange={(e) => setPassword(e.target.value)}
              aria-describedby={signup ? ids.pwHint : undefined}
            />
            {signup && <small id={ids.pwHint}>{t('auth.passwordHint')}</small>}
          </div>
          {error && (
            <p className="form-error" id={ids.error} role="alert">
              {error}
            </p>
          )}
          <button className="button button-primary button-block" type="submit" disabled={busy}>
            {signup ? t('auth.signup.submit') : t('auth.login.submit')}
          </button>
          <p className="auth-switch">
            {signup ? t('auth.toLogin') : t('auth.toSignup')}{' '}
            <a
              href={signup ? '/login' : '/signup'}
              onClick={(e) => {
                e.preventDefault();
                setError(null);
                navigate({ name: signup ? 'login' : 'signup' });
              }}
            >
              {signup ? t('auth.toLoginLink') : t('auth.toSignupLink')}
            </a>
          </p>
        </form>
      </main>
    </div>
  );
}
