// Voice conferences, the pure part: what the client knows of each conversation's call (from
// HTTP answers and call.* events, in any order), where this device is in joining one, and
// what to tell the user when the microphone cannot be used.

import type { Schemas, ServerEvent } from '../api/types';
import type { MessageKey } from '../i18n/en';

export type Call = Schemas['CallOut'];
export type Participant = Schemas['ParticipantOut'];
export type JoinAnswer = Schemas['JoinCallOut'];
export type CallEvent = Extract<ServerEvent, { type: 'call.started' | 'call.updated' | 'call.ended' }>;

/** The call of each conversation this device has heard of; null: none going on. */
export type CallsByConversation = Record<string, Call | null>;

/** Where this device is with its own call. */
export type MyCall =
  | { phase: 'idle' }
  | { phase: 'microphone'; conversationId: string }
  | { phase: 'connecting'; conversationId: string; callId: string }
  | { phase: 'in-call'; conversationId: string; callId: string; muted: boolean }
  | { phase: 'failed'; conversationId: string; problem: CallProblem };

export interface CallProblem {
  key: MessageKey;
  /** The server's own words when it refused (e.g. which node holds the call). */
  detail?: string;
}

export function isCallEvent(event: ServerEvent): event is CallEvent {
  return event.type === 'call.started' || event.type === 'call.updated' || event.type === 'call.ended';
}

/** A newer view of a call wins; an ended call never comes back to life (a late update or
 * a stale HTTP answer after call.ended), and a different, newer call replaces it. */
export function mergeCall(known: Call | null | undefined, incoming: Call): Call {
  if (!known) return incoming;
  if (known.id !== incoming.id) return incoming.started_at >= known.started_at ? incoming : known;
  if (known.status === 'ended') return known;
  return incoming;
}

export function applyCallEvent(calls: CallsByConversation, event: CallEvent): CallsByConversation {
  const id = event.call.conversation_id;
  const next = mergeCall(calls[id], event.call);
  return next === calls[id] ? calls : { ...calls, [id]: next };
}

/** An HTTP answer: the active call (or null for "none going on", a 404). */
export function applyFetchedCall(calls: CallsByConversation, conversationId: string, call: Call | null): CallsByConversation {
  const known = calls[conversationId];
  if (call === null) {
    // A 404 can race a call.started that arrived first: keep an active call we heard of.
    if (known && known.status === 'active') return calls;
    return { ...calls, [conversationId]: null };
  }
  const next = mergeCall(known, call);
  return next === known ? calls : { ...calls, [conversationId]: next };
}

/** The call going on in the conversation, if any. */
export function activeCall(calls: CallsByConversation, conversationId: string): Call | null {
  const call = calls[conversationId];
  return call && call.status === 'active' ? call : null;
}

export function isIn(call: Call | null, userId: string): boolean {
  return !!call?.participants.some((p) => p.user_id === userId);
}

/** Why getUserMedia failed, in words the user can act on. */
export function explainMicrophoneError(error: unknown): CallProblem {
  const name = error instanceof DOMException || error instanceof Error ? error.name : '';
  switch (name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return { key: 'call.problem.micDenied' };
    case 'NotFoundError':
    case 'OverconstrainedError':
      return { key: 'call.problem.micMissing' };
    case 'NotReadableError':
    case 'AbortError':
      return { key: 'call.problem.micBusy' };
    default:
      if (typeof navigator !== 'undefined' && !navigator.mediaDevices) return { key: 'call.problem.micUnsupported' };
      return { key: 'call.problem.micOther' };
  }
}

/** Why the server refused to let us in. */
export function explainJoinError(code: string, message: string): CallProblem {
  switch (code) {
    case 'call_full':
      return { key: 'call.problem.full', detail: message };
    case 'call_ended':
      return { key: 'call.problem.ended' };
    case 'call_on_other_node':
      return { key: 'call.problem.otherNode', detail: message };
    case 'network':
      return { key: 'error.network' };
    default:
      return { key: 'call.problem.connect', detail: message };
  }
}

/** Resolves once the peer connection has gathered every ICE candidate: Knock's signalling is
 * not trickle, the offer carries all of them. Gives up waiting after ``timeoutMs`` (what was
 * gathered by then is sent). */
export function iceGatheringComplete(pc: RTCPeerConnection, timeoutMs = 5000): Promise<void> {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      pc.removeEventListener('icegatheringstatechange', check);
      resolve();
    };
    const check = () => {
      if (pc.iceGatheringState === 'complete') done();
    };
    const timer = setTimeout(done, timeoutMs);
    pc.addEventListener('icegatheringstatechange', check);
  });
}
