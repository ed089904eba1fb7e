// A tiny history router: the paths are few and flat, and the server answers every one of
// them with index.html.
import { useSyncExternalStore } from 'react';

export type Route =
  | { name: 'chats' }
  | { name: 'chat'; conversationId: string }
  | { name: 'team' }
  | { name: 'office' }
  | { name: 'me' }
  | { name: 'join'; code: string }
  | { name: 'login' }
  | { name: 'signup' };

export function parseRoute(pathname: string): Route {
  const parts = pathname.split('/').filter(Boolean).map(decodeURIComponent);
  switch (parts[0]) {
    case 'c':
      return parts[1] ? { name: 'chat', conversationId: parts[1] } : { name: 'chats' };
    case 'team':
      return { name: 'team' };
    case 'office':
      return { name: 'office' };
    case 'me':
      return { name: 'me' };
    case 'join':
      return parts[1] ? { name: 'join', code: parts[1] } : { name: 'chats' };
    case 'login':
      return { name: 'login' };
    case 'signup':
      return { name: 'signup' };
    default:
      return { name: 'chats' };
  }
}

export function routePath(route: Route): string {
  switch (route.name) {
    case 'chats':
      return '/';
    case 'chat':
      return `/c/${encodeURIComponent(route.conversationId)}`;
    case 'join':
      return `/join/${encodeURIComponent(route.code)}`;
    default:
      return `/${route.name}`;
  }
}

const listeners = new Set<() => void>();
if (typeof window !== 'undefined') window.addEventListener('popstate', () => listeners.forEach((l) => l()));

export function navigate(route: Route, options: { replace?: boolean } = {}): void {
  const path = routePath(route);
  if (path === window.location.pathname) return;
  if (options.replace) window.history.replaceState(null, '', path);
  else window.history.pushState(null, '', path);
  listeners.forEach((l) => l());
}

export function usePathname(): string {
  return useSyncExternalStore(
    (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    () => window.location.pathname,
  );
}

export function useRoute(): Route {
  return parseRoute(usePathname());
}
