import { describe, expect, it } from 'vitest';
import { en } from '../i18n/en';
import {
  activeCall,
  applyCallEvent,
  applyFetchedCall,
  explainJoinError,
  explainMicrophoneError,
  type Call,
  type CallEvent,
  type CallsByConversation,
} from './calls';

function call(id: string, over: Partial<Call> = {}): Call {
  return {
    id,
    org_id: 'o',
    conversation_id: 'c',
    started_by: 'ann',
    status: 'active',
    node_url: 'http://127.0.0.1:8000',
    started_at: `2026-12-02T10:00:0${id.slice(-1)}Z`,
    ended_at: null,
    participants: [],
    ...over,
  };
}

const person = (user_id: string, speaking = false, muted = false) => ({ user_id, joined_at: '2026-12-02T10:00:10Z', muted, speaking });

function event(type: CallEvent['type'], c: Call, cursor = '1'): CallEvent {
  return { type, call: c, cursor } as CallEvent;
}

function replay(events: CallEvent[]): CallsByConversation {
  return events.reduce<CallsByConversation>((calls, e) => applyCallEvent(calls, e), {});
}

describe('calls state', () => {
  const started = event('call.started', call('k1'));
  const joined = event('call.updated', call('k1', { participants: [person('ann'), person('bob')] }));
  const speaking = event('call.updated', call('k1', { participants: [person('ann', true), person('bob')] }));
  const ended = event('call.ended', call('k1', { status: 'ended', ended_at: '2026-12-02T10:05:00Z' }));

  it('follows a call from start to end', () => {
    expect(activeCall(replay([started]), 'c')?.id).toBe('k1');
    expect(activeCall(replay([started, joined, speaking]), 'c')?.participants.map((p) => [p.user_id, p.speaking])).toEqual([
      ['ann', true],
      ['bob', false],
    ]);
    expect(activeCall(replay([started, joined, ended]), 'c')).toBeNull();
  });

  it('never brings an ended call back, whatever arrives after', () => {
    const calls = replay([started, ended, speaking]);
    expect(calls.c?.status).toBe('ended');
    expect(applyFetchedCall(calls, 'c', call('k1')).c?.status).toBe('ended');
  });

  it('a newer call replaces an ended one, an older one does not replace a newer', () => {
    const next = event('call.started', call('k2'));
    expect(activeCall(replay([started, ended, next]), 'c')?.id).toBe('k2');
    expect(activeCall(replay([next, started]), 'c')?.id).toBe('k2');
  });

  it('a 404 racing a call.started keeps the call that was heard of', () => {
    const calls = replay([started]);
    expect(activeCall(applyFetchedCall(calls, 'c', null), 'c')?.id).toBe('k1');
    expect(applyFetchedCall({}, 'c', null)).toEqual({ c: null });
    expect(activeCall(applyFetchedCall(replay([started, ended]), 'c', null), 'c')).toBeNull();
  });

  it('returns the same object when nothing changed (no re-render)', () => {
    const calls = replay([started, ended]);
    expect(applyCallEvent(calls, speaking)).toBe(calls);
  });
});

describe('problems explained', () => {
  it('names what to do when the microphone is refused, missing or busy', () => {
    expect(explainMicrophoneError(new DOMException('x', 'NotAllowedError')).key).toBe('call.problem.micDenied');
    expect(explainMicrophoneError(new DOMException('x', 'NotFoundError')).key).toBe('call.problem.micMissing');
    expect(explainMicrophoneError(new DOMException('x', 'NotReadableError')).key).toBe('call.problem.micBusy');
    expect(en[explainMicrophoneError(new DOMException('x', 'NotAllowedError')).key]).toMatch(/[Aa]llow/);
    expect(en[explainMicrophoneError(new DOMException('x', 'NotFoundError')).key]).toMatch(/No microphone/);
  });

  it('passes on where the call is when it runs on another node', () => {
    const problem = explainJoinError('call_on_other_node', 'join it through https://b.example');
    expect(problem.key).toBe('call.problem.otherNode');
    expect(problem.detail).toContain('https://b.example');
    expect(explainJoinError('call_full', 'This call is full (25 people).').key).toBe('call.problem.full');
    expect(explainJoinError('call_ended', '').key).toBe('call.problem.ended');
  });
});
