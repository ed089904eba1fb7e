// This device's side of voice conferences: the calls it knows of, the one it is in, the
// microphone, the WebRTC connection to the call's node and the speaker (an <audio> element).
// One per signed-in session; screens read it through useCalls().

import { useSyncExternalStore } from 'react';
import { ApiError, http } from '../api/http';
import {
  applyCallEvent,
  applyFetchedCall,
  explainJoinError,
  explainMicrophoneError,
  iceGatheringComplete,
  isCallEvent,
  type Call,
  type CallsByConversation,
  type JoinAnswer,
  type MyCall,
} from './calls';
import type { Session } from './session';

export interface CallsView {
  calls: CallsByConversation;
  mine: MyCall;
}

const enc = encodeURIComponent;

export class CallController {
  private view: CallsView = { calls: {}, mine: { phase: 'idle' } };
  private readonly listeners = new Set<() => void>();
  private pc: RTCPeerConnection | null = null;
  private microphone: MediaStream | null = null;
  /** Plays what the call's mixer sends us: everyone but ourselves. */
  readonly speaker: HTMLAudioElement;

  constructor(session: Session) {
    this.speaker = document.createElement('audio');
    this.speaker.autoplay = true;
    this.speaker.dataset.testid = 'call-audio';
    this.speaker.hidden = true;
    document.body.append(this.speaker);
    session.onEvent((event) => {
      if (!isCallEvent(event)) return;
      this.update({ calls: applyCallEvent(this.view.calls, event) });
      this.followMyCall(event.call);
    });
    // Closing the tab: say goodbye so the others see us go at once (else the mixer notices
    // the dead connection within seconds). keepalive lets the request outlive the page.
    window.addEventListener('pagehide', () => {
      const mine = this.view.mine;
      if (mine.phase !== 'in-call' && mine.phase !== 'connecting') return;
      void fetch(`/api/v1/calls/${enc(mine.callId)}/leave`, {
        method: 'POST',
        keepalive: true,
        headers: { Authorization: `Bearer ${session.token}` },
      }).catch(() => undefined);
    });
  }

  get state(): CallsView {
    return this.view;
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  private update(change: Partial<CallsView>): void {
    this.view = { ...this.view, ...change };
    for (const l of this.listeners) l();
  }

  private setCall(conversationId: string, call: Call | null): void {
    this.update({ calls: applyFetchedCall(this.view.calls, conversationId, call) });
  }

  /** Asks the server whether a call is going on in the conversation. */
  async refresh(conversationId: string): Promise<void> {
    try {
      this.setCall(conversationId, await http<Call>(`/conversations/${enc(conversationId)}/call`));
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) this.setCall(conversationId, null);
    }
  }

  /** Starts a call in the conversation (or finds the one going on) and joins it. */
  async start(conversationId: string): Promise<void> {
    if (this.busy()) return;
    this.update({ mine: { phase: 'microphone', conversationId } });
    const microphone = await this.openMicrophone(conversationId);
    if (!microphone) return;
    try {
      const call = await http<Call>(`/conversations/${enc(conversationId)}/calls`, { method: 'POST' });
      this.setCall(conversationId, call);
      await this.connect(conversationId, call.id, microphone);
    } catch (err) {
      this.fail(conversationId, err);
    }
  }

  async join(conversationId: string, callId: string): Promise<void> {
    if (this.busy()) return;
    this.update({ mine: { phase: 'microphone', conversationId } });
    const microphone = await this.openMicrophone(conversationId);
    if (!microphone) return;
    try {
      await this.connect(conversationId, callId, microphone);
    } catch (err) {
      this.fail(conversationId, err);
    }
  }

  private busy(): boolean {
    const phase = this.view.mine.phase;
    return phase === 'microphone' || phase === 'connecting' || phase === 'in-call';
  }

  private async openMicrophone(conversationId: string): Promise<MediaStream | null> {
    try {
      if (!navigator.mediaDevices?.getUserMedia) throw new DOMException('no media devices', 'NotSupportedError');
      this.microphone = await navigator.mediaDevices.getUserMedia({
        audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
      });
      return this.microphone;
    } catch (err) {
      this.update({ mine: { phase: 'failed', conversationId, problem: explainMicrophoneError(err) } });
      return null;
    }
  }

  private async connect(conversationId: string, callId: string, microphone: MediaStream): Promise<void> {
    this.update({ mine: { phase: 'connecting', conversationId, callId } });
    const pc = new RTCPeerConnection();
    this.pc = pc;
    for (const track of microphone.getAudioTracks()) pc.addTrack(track, microphone);
    pc.addEventListener('track', (event) => {
      this.speaker.srcObject = event.streams[0] ?? new MediaStream([event.track]);
      void this.speaker.play().catch(() => undefined);
    });
    pc.addEventListener('connectionstatechange', () => {
      if (pc !== this.pc || pc.connectionState !== 'failed') return;
      this.hangUp();
      this.update({ mine: { phase: 'failed', conversationId, problem: { key: 'call.problem.lost' } } });
    });
    await pc.setLocalDescription(await pc.createOffer());
    await iceGatheringComplete(pc);
    const answer = await http<JoinAnswer>(`/calls/${enc(callId)}/join`, {
      method: 'POST',
      body: { sdp: pc.localDescription?.sdp ?? '' },
      timeoutMs: 30_000,
    });
    if (pc !== this.pc) return; // hung up meanwhile
    pc.setConfiguration({ iceServers: answer.ice_servers.map((s) => ({ urls: s.urls, username: s.username ?? undefined, credential: s.credential ?? undefined })) });
    await pc.setRemoteDescription({ type: 'answer', sdp: answer.sdp });
    this.setCall(conversationId, answer.call);
    this.update({ mine: { phase: 'in-call', conversationId, callId, muted: false } });
  }

  private fail(conversationId: string, err: unknown): void {
    this.hangUp();
    const problem = err instanceof ApiError ? explainJoinError(err.code, err.message) : { key: 'call.problem.connect' as const };
    this.update({ mine: { phase: 'failed', conversationId, problem } });
  }

  async setMuted(muted: boolean): Promise<void> {
    const mine = this.view.mine;
    if (mine.phase !== 'in-call') return;
    // The track is silenced here at once; the server also stops mixing us.
    for (const track of this.microphone?.getAudioTracks() ?? []) track.enabled = !muted;
    this.update({ mine: { ...mine, muted } });
    try {
      this.setCall(mine.conversationId, await http<Call>(`/calls/${enc(mine.callId)}/mute`, { method: 'POST', body: { muted } }));
    } catch {
      // The call ended or we are out of it; the events say so.
    }
  }

  async leave(): Promise<void> {
    const mine = this.view.mine;
    this.hangUp();
    this.update({ mine: { phase: 'idle' } });
    if (mine.phase !== 'in-call' && mine.phase !== 'connecting') return;
    try {
      this.setCall(mine.conversationId, await http<Call>(`/calls/${enc(mine.callId)}/leave`, { method: 'POST' }));
    } catch {
      // Gone already; nothing to undo.
    }
  }

  /** Ends the call for everyone (its starter, the group owner or an admin). */
  async end(conversationId: string, callId: string): Promise<void> {
    const call = await http<Call>(`/calls/${enc(callId)}/end`, { method: 'POST' });
    this.setCall(conversationId, call);
    this.followMyCall(call);
  }

  dismissProblem(): void {
    if (this.view.mine.phase === 'failed') this.update({ mine: { phase: 'idle' } });
  }

  /** Our call ended. (A frame not listing us may predate our join, so only the connection
   * failing tells that we were dropped.) */
  private followMyCall(call: Call): void {
    const mine = this.view.mine;
    if (mine.phase !== 'in-call' && mine.phase !== 'connecting') return;
    if (mine.callId !== call.id) return;
    if (call.status === 'ended') {
      this.hangUp();
      this.update({ mine: { phase: 'idle' } });
    }
  }

  private hangUp(): void {
    this.pc?.close();
    this.pc = null;
    for (const track of this.microphone?.getTracks() ?? []) track.stop();
    this.microphone = null;
    this.speaker.srcObject = null;
  }

  stop(): void {
    void this.leave();
    this.speaker.remove();
  }
}

const controllers = new WeakMap<Session, CallController>();

export function callControllerOf(session: Session): CallController {
  let controller = controllers.get(session);
  if (!controller) {
    controller = new CallController(session);
    controllers.set(session, controller);
  }
  return controller;
}

export function useCallsView(controller: CallController): CallsView {
  return useSyncExternalStore(controller.subscribe, () => controller.state);
}
