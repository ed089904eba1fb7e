import type { QueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useRef, useState } from 'react';
import { api } from '../api/endpoints';
import { configureHttp } from '../api/http';
import type { AuthResult } from '../api/types';
import { AuthScreen } from '../screens/AuthScreen';
import { JoinScreen } from '../screens/JoinScreen';
import { Shell } from '../screens/Shell';
import { clearAuth, loadAuth, saveAuth } from './auth';
import { SessionContext } from './context';
import { navigate, useRoute } from './router';
import { Session } from './session';

const PENDING_INVITE_KEY = 'knock.pendingInvite';

export function App({ queryClient }: { queryClient: QueryClient }) {
  const route = useRoute();
  const signOutRef = useRef<() => void>(() => {});
  // A saved sign-in starts its session before the first paint: no flash of the sign-in page.
  const [session, setSession] = useState<Session | null>(() => {
    const saved = loadAuth();
    if (!saved) {
      configureHttp({ token: () => null, onUnauthorized: () => {} });
      return null;
    }
    return openSession(saved, queryClient, () => signOutRef.current());
  });
  const current = useRef<Session | null>(session);
  current.current = session;

  const signOut = useCallback(() => {
    current.current?.forget();
    clearAuth();
    queryClient.clear();
    setSession(null);
    navigate({ name: 'login' }, { replace: true });
  }, [queryClient]);
  signOutRef.current = signOut;

  useEffect(() => {
    if (!session) return;
    session.start();
    return () => session.stop();
  }, [session]);

  const onAuthenticated = (result: AuthResult) => {
    saveAuth(result);
    setSession(openSession(result, queryClient, () => signOutRef.current()));
    const pending = sessionStorage.getItem(PENDING_INVITE_KEY);
    if (pending) {
      sessionStorage.removeItem(PENDING_INVITE_KEY);
      navigate({ name: 'join', code: pending }, { replace: true });
    } else {
      navigate({ name: 'chats' }, { replace: true });
    }
  };

  if (!session) {
    if (route.name === 'join') sessionStorage.setItem(PENDING_INVITE_KEY, route.code);
    const pendingInvite = route.name === 'join' ? route.code : sessionStorage.getItem(PENDING_INVITE_KEY);
    return <AuthScreen mode={route.name === 'signup' || route.name === 'join' ? 'signup' : 'login'} inviteCode={pendingInvite} onAuthenticated={onAuthenticated} />;
  }

  const logout = async () => {
    try {
      await api.logout();
    } catch {
      // Signing out locally matters most; the token dies with its TTL otherwise.
    }
    signOut();
  };

  return (
    <SessionContext.Provider value={session}>
      {route.name === 'join' ? <JoinScreen code={route.code} /> : <Shell route={route} onLogout={logout} />}
    </SessionContext.Provider>
  );
}

function openSession(auth: { token: string; user: AuthResult['user'] }, queryClient: QueryClient, onSignedOut: () => void): Session {
  configureHttp({ token: () => auth.token, onUnauthorized: onSignedOut });
  return new Session(auth.token, auth.user, queryClient, onSignedOut);
}
