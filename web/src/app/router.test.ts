import { describe, expect, it } from 'vitest';
import { inviteCodeFrom } from '../screens/Onboarding';
import { parseRoute, routePath, type Route } from './router';

describe('routes', () => {
  it('round-trips every route through its path', () => {
    const routes: Route[] = [
      { name: 'chats' },
      { name: 'chat', conversationId: '01abc' },
      { name: 'team' },
      { name: 'me' },
      { name: 'join', code: 'X y/z' },
      { name: 'login' },
      { name: 'signup' },
    ];
    for (const route of routes) expect(parseRoute(routePath(route))).toEqual(route);
  });

  it('sends unknown paths to the chats', () => {
    expect(parseRoute('/nope/at/all')).toEqual({ name: 'chats' });
    expect(parseRoute('/c/')).toEqual({ name: 'chats' });
    expect(parseRoute('/join')).toEqual({ name: 'chats' });
  });
});

describe('invite links', () => {
  it('takes the code from a pasted link or the bare code', () => {
    expect(inviteCodeFrom('https://knock.example/join/AbC123_-x')).toBe('AbC123_-x');
    expect(inviteCodeFrom('  http://127.0.0.1:8000/join/code42?utm=1 ')).toBe('code42');
    expect(inviteCodeFrom('code42')).toBe('code42');
    expect(inviteCodeFrom('not a code')).toBeNull();
    expect(inviteCodeFrom('')).toBeNull();
  });
});
