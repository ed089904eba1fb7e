import { describe, expect, it } from 'vitest';
import { captureProblem, elapsedMs, holdsMicrophone, idleRecorder, MAX_VOICE_MS, pickRecordingType, recorderStep, type RecorderEvent, type RecorderState } from './recorder';

const clip = new Blob(['opus'], { type: 'audio/webm' });

function run(events: RecorderEvent[], from: RecorderState = idleRecorder): RecorderState {
  return events.reduce(recorderStep, from);
}

describe('a voice recording', () => {
  it('goes asking → recording → finishing → recorded with its duration', () => {
    const s = run([{ kind: 'ask' }, { kind: 'started', at: 1_000 }, { kind: 'stop', at: 4_200 }, { kind: 'data', clip }]);
    expect(s).toEqual({ phase: 'recorded', clip, durationMs: 3_200 });
  });

  it('counts elapsed time while recording and keeps it afterwards', () => {
    const recording = run([{ kind: 'ask' }, { kind: 'started', at: 1_000 }]);
    expect(elapsedMs(recording, 3_500)).toBe(2_500);
    expect(elapsedMs(recording, 500)).toBe(0);
    expect(elapsedMs(run([{ kind: 'stop', at: 2_000 }], recording), 9_999)).toBe(1_000);
    expect(elapsedMs(idleRecorder, 5_000)).toBe(0);
  });

  it('calls a slip of the finger too short', () => {
    expect(run([{ kind: 'ask' }, { kind: 'started', at: 0 }, { kind: 'stop', at: 200 }])).toEqual({ phase: 'failed', problem: 'too_short' });
  });

  it('ignores data that arrives after a cancel, and a start without asking', () => {
    const cancelled = run([{ kind: 'ask' }, { kind: 'started', at: 0 }, { kind: 'stop', at: 2_000 }, { kind: 'cancel' }, { kind: 'data', clip }]);
    expect(cancelled).toEqual(idleRecorder);
    expect(run([{ kind: 'started', at: 5 }])).toEqual(idleRecorder);
  });

  it('does not restart a running recording when asked twice', () => {
    const recording = run([{ kind: 'ask' }, { kind: 'started', at: 7 }]);
    expect(recorderStep(recording, { kind: 'ask' })).toBe(recording);
  });

  it('ignores an empty clip (the recorder produced nothing yet)', () => {
    const finishing = run([{ kind: 'ask' }, { kind: 'started', at: 0 }, { kind: 'stop', at: 2_000 }]);
    expect(recorderStep(finishing, { kind: 'data', clip: new Blob([]) })).toBe(finishing);
  });

  it('fails while asking or recording, not once done', () => {
    expect(run([{ kind: 'ask' }, { kind: 'failed', problem: 'denied' }])).toEqual({ phase: 'failed', problem: 'denied' });
    const done = run([{ kind: 'ask' }, { kind: 'started', at: 0 }, { kind: 'stop', at: 2_000 }, { kind: 'data', clip }]);
    expect(recorderStep(done, { kind: 'failed', problem: 'failed' })).toBe(done);
  });

  it('holds the microphone only while it may record', () => {
    expect(holdsMicrophone(idleRecorder)).toBe(false);
    expect(holdsMicrophone({ phase: 'asking' })).toBe(true);
    expect(holdsMicrophone({ phase: 'recording', startedAt: 0 })).toBe(true);
    expect(holdsMicrophone({ phase: 'recorded', clip, durationMs: 1 })).toBe(false);
  });

  it('stops before the server limit of five minutes', () => {
    expect(MAX_VOICE_MS).toBeLessThan(5 * 60_000);
  });
});

describe('capture problems', () => {
  it('explains denial, missing and busy devices', () => {
    expect(captureProblem(new DOMException('no', 'NotAllowedError'))).toBe('denied');
    expect(captureProblem({ name: 'NotFoundError' })).toBe('no_device');
    expect(captureProblem({ name: 'NotReadableError' })).toBe('busy');
    expect(captureProblem(new TypeError('no mediaDevices'))).toBe('unsupported');
    expect(captureProblem(null)).toBe('failed');
    expect(captureProblem('boom')).toBe('failed');
  });

  it('prefers Opus in WebM, falls back to what the browser records', () => {
    expect(pickRecordingType(() => true)).toBe('audio/webm;codecs=opus');
    expect(pickRecordingType((t) => t === 'audio/mp4')).toBe('audio/mp4');
    expect(pickRecordingType(() => false)).toBeNull();
  });
});
