// Recording a voice clip: the states a recording goes through, and what a failed
// getUserMedia / MediaRecorder means for the person holding the phone.

/** Why the microphone or camera could not be used, in words the UI can explain. */
export type CaptureProblem = 'denied' | 'no_device' | 'busy' | 'unsupported' | 'too_short' | 'failed';

/** The server keeps 5 minutes of audio at most; stop a little before so the clip always fits. */
export const MAX_VOICE_MS = 295_000;
/** Shorter than this is a slip of the finger, not a message. */
export const MIN_VOICE_MS = 500;

// Opus in WebM is what the server stores best; Safari records only AAC in MP4.
const RECORDING_TYPES = ['audio/webm;codecs=opus', 'audio/ogg;codecs=opus', 'audio/webm', 'audio/mp4'];

export function pickRecordingType(isTypeSupported: (type: string) => boolean): string | null {
  return RECORDING_TYPES.find((type) => isTypeSupported(type)) ?? null;
}

/** A file name the server can log; what the clip is comes from its bytes. */
export function clipName(clip: Blob): string {
  if (clip.type.includes('mp4')) return 'voice.m4a';
  if (clip.type.includes('ogg')) return 'voice.ogg';
  return 'voice.webm';
}

/** Maps the DOMException names of getUserMedia and MediaRecorder to a problem to explain. */
export function captureProblem(err: unknown): CaptureProblem {
  const name = (err as { name?: string } | null)?.name ?? '';
  switch (name) {
    case 'NotAllowedError':
    case 'PermissionDeniedError':
    case 'SecurityError':
      return 'denied';
    case 'NotFoundError':
    case 'DevicesNotFoundError':
    case 'OverconstrainedError':
      return 'no_device';
    case 'NotReadableError':
    case 'TrackStartError':
    case 'AbortError':
      return 'busy';
    case 'NotSupportedError':
    case 'TypeError':
      return 'unsupported';
    default:
      return 'failed';
  }
}

export type RecorderState =
  | { phase: 'idle' }
  | { phase: 'asking' }
  | { phase: 'recording'; startedAt: number }
  | { phase: 'finishing'; durationMs: number }
  | { phase: 'recorded'; clip: Blob; durationMs: number }
  | { phase: 'failed'; problem: CaptureProblem };

export type RecorderEvent =
  | { kind: 'ask' }
  | { kind: 'started'; at: number }
  | { kind: 'stop'; at: number }
  | { kind: 'data'; clip: Blob }
  | { kind: 'cancel' }
  | { kind: 'failed'; problem: CaptureProblem };

export const idleRecorder: RecorderState = { phase: 'idle' };

/** One step of a recording. Events that do not fit the phase (late data after a cancel) change nothing. */
export function recorderStep(state: RecorderState, event: RecorderEvent): RecorderState {
  switch (event.kind) {
    case 'ask':
      return state.phase === 'recording' || state.phase === 'asking' || state.phase === 'finishing' ? state : { phase: 'asking' };
    case 'started':
      return state.phase === 'asking' ? { phase: 'recording', startedAt: event.at } : state;
    case 'stop': {
      if (state.phase !== 'recording') return state;
      const durationMs = Math.max(0, event.at - state.startedAt);
      return durationMs < MIN_VOICE_MS ? { phase: 'failed', problem: 'too_short' } : { phase: 'finishing', durationMs };
    }
    case 'data':
      return state.phase === 'finishing' && event.clip.size > 0 ? { phase: 'recorded', clip: event.clip, durationMs: state.durationMs } : state;
    case 'cancel':
      return idleRecorder;
    case 'failed':
      return state.phase === 'idle' || state.phase === 'recorded' ? state : { phase: 'failed', problem: event.problem };
  }
}

/** True while the microphone is (or is about to be) in use: the stream must stay open. */
export function holdsMicrophone(state: RecorderState): boolean {
  return state.phase === 'asking' || state.phase === 'recording' || state.phase === 'finishing';
}

export function elapsedMs(state: RecorderState, now: number): number {
  if (state.phase === 'recording') return Math.max(0, now - state.startedAt);
  if (state.phase === 'finishing' || state.phase === 'recorded') return state.durationMs;
  return 0;
}
