import { useCallback, useEffect, useReducer, useRef, useState } from 'react';
import { captureProblem, elapsedMs, idleRecorder, MAX_VOICE_MS, pickRecordingType, recorderStep, type RecorderState } from './recorder';

export interface VoiceRecorder {
  state: RecorderState;
  elapsedMs: number;
  start: () => Promise<void>;
  stop: () => void;
  /** Drops the recording (or the request for the microphone) and frees the microphone. */
  cancel: () => void;
}

/** Records one voice clip with MediaRecorder; the microphone is released as soon as it stops. */
export function useVoiceRecorder(): VoiceRecorder {
  const [state, dispatch] = useReducer(recorderStep, idleRecorder);
  const [now, setNow] = useState(() => Date.now());
  const stream = useRef<MediaStream | null>(null);
  const recorder = useRef<MediaRecorder | null>(null);
  // Bumped by cancel: a microphone granted after the person gave up is closed at once.
  const attempt = useRef(0);

  const release = useCallback(() => {
    stream.current?.getTracks().forEach((track) => track.stop());
    stream.current = null;
    recorder.current = null;
  }, []);

  const start = useCallback(async () => {
    const mine = ++attempt.current;
    dispatch({ kind: 'ask' });
    const type = typeof MediaRecorder === 'undefined' ? null : pickRecordingType((t) => MediaRecorder.isTypeSupported(t));
    if (!navigator.mediaDevices?.getUserMedia || !type) {
      dispatch({ kind: 'failed', problem: 'unsupported' });
      return;
    }
    let media: MediaStream;
    try {
      media = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true } });
    } catch (err) {
      if (attempt.current === mine) dispatch({ kind: 'failed', problem: captureProblem(err) });
      return;
    }
    if (attempt.current !== mine) {
      media.getTracks().forEach((track) => track.stop());
      return;
    }
    const chunks: Blob[] = [];
    let rec: MediaRecorder;
    try {
      rec = new MediaRecorder(media, { mimeType: type, audioBitsPerSecond: 32_000 });
    } catch (err) {
      media.getTracks().forEach((track) => track.stop());
      dispatch({ kind: 'failed', problem: captureProblem(err) });
      return;
    }
    stream.current = media;
    recorder.current = rec;
    rec.ondataavailable = (e) => {
      if (e.data.size > 0) chunks.push(e.data);
    };
    rec.onstop = () => {
      if (recorder.current === rec) release();
      if (attempt.current === mine) dispatch({ kind: 'data', clip: new Blob(chunks, { type: rec.mimeType || type }) });
    };
    rec.onerror = () => {
      if (recorder.current === rec) release();
      if (attempt.current === mine) dispatch({ kind: 'failed', problem: 'failed' });
    };
    // A timeslice keeps memory flat on long clips: chunks arrive every second.
    rec.start(1000);
    setNow(Date.now());
    dispatch({ kind: 'started', at: Date.now() });
  }, [release]);

  const stop = useCallback(() => {
    const rec = recorder.current;
    if (rec?.state !== 'recording') return;
    dispatch({ kind: 'stop', at: Date.now() });
    rec.stop();
  }, []);

  const cancel = useCallback(() => {
    attempt.current++;
    const rec = recorder.current;
    release();
    if (rec && rec.state !== 'inactive') rec.stop();
    dispatch({ kind: 'cancel' });
  }, [release]);

  const recording = state.phase === 'recording';
  useEffect(() => {
    if (!recording) return;
    const timer = setInterval(() => setNow(Date.now()), 250);
    return () => clearInterval(timer);
  }, [recording]);

  const elapsed = elapsedMs(state, now);
  useEffect(() => {
    if (recording && elapsed >= MAX_VOICE_MS) stop();
  }, [recording, elapsed, stop]);

  // Leaving the screen mid-recording must not leave the microphone on.
  useEffect(
    () => () => {
      attempt.current++;
      const rec = recorder.current;
      stream.current?.getTracks().forEach((track) => track.stop());
      if (rec && rec.state !== 'inactive') rec.stop();
    },
    [],
  );

  return { state, elapsedMs: elapsed, start, stop, cancel };
}
