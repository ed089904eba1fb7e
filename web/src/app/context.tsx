import { createContext, useContext, useEffect, useState } from 'react';
import type { ConnectionStatus } from '../realtime/connection';
import type { ChatState } from '../state/reducer';
import { useChatSelector } from '../state/store';
import type { Session } from './session';

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside a signed-in session');
  return session;
}

export function useChat<T>(selector: (state: ChatState) => T): T {
  return useChatSelector(useSession().store, selector);
}

export function useConnectionStatus(): ConnectionStatus {
  const session = useSession();
  const [status, setStatus] = useState(session.connectionStatus);
  useEffect(() => {
    setStatus(session.connectionStatus);
    return session.onStatus(setStatus);
  }, [session]);
  return status;
}

export function useMediaQuery(query: string): boolean {
  const [matches, setMatches] = useState(() => window.matchMedia(query).matches);
  useEffect(() => {
    const mq = window.matchMedia(query);
    const onChange = () => setMatches(mq.matches);
    onChange();
    mq.addEventListener('change', onChange);
    return () => mq.removeEventListener('change', onChange);
  }, [query]);
  return matches;
}

export const DESKTOP_QUERY = '(min-width: 900px)';

export function useIsDesktop(): boolean {
  return useMediaQuery(DESKTOP_QUERY);
}
