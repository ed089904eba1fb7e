import { SendHorizontal, Square, Trash2 } from 'lucide-react';
import { useEffect, useRef } from 'react';
import { useI18n } from '../i18n';
import { clockText } from './burn';
import { captureProblemText } from './problems';
import { useVoiceRecorder } from './useVoiceRecorder';

/** Takes the composer's place while recording a voice message: time, cancel, send. */
export function VoiceRecordBar({ onSend, onClose }: { onSend: (clip: Blob) => void; onClose: () => void }) {
  const { t } = useI18n();
  const recorder = useVoiceRecorder();
  const { state, start } = recorder;
  const sendButton = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    void start();
  }, [start]);

  // Once per clip, however often the parent re-renders with a new onSend.
  const sent = useRef<Blob | null>(null);
  useEffect(() => {
    if (state.phase !== 'recorded' || sent.current === state.clip) return;
    sent.current = state.clip;
    onSend(state.clip);
  }, [state, onSend]);

  useEffect(() => {
    if (state.phase === 'recording') sendButton.current?.focus();
  }, [state.phase]);

  const cancel = () => {
    recorder.cancel();
    onClose();
  };

  if (state.phase === 'failed')
    return (
      <div className="voice-bar voice-bar-failed" role="alert" data-testid="voice-problem">
        <span>{captureProblemText('microphone', state.problem, t)}</span>
        <button type="button" className="button button-secondary" onClick={onClose}>
          {t('dialog.close')}
        </button>
      </div>
    );
  return (
    <div className="voice-bar" data-testid="voice-bar">
      <button type="button" className="icon-button" onClick={cancel} aria-label={t('media.voice.cancel')}>
        <Trash2 size={20} aria-hidden="true" />
      </button>
      <span className={`rec-dot${state.phase === 'recording' ? ' rec-live' : ''}`} aria-hidden="true" />
      <span className="voice-bar-status" role="status">
        {state.phase === 'asking' ? t('media.mic.asking') : t('media.voice.recording')}{' '}
        <time className="voice-bar-time" data-testid="voice-elapsed">
          {clockText(recorder.elapsedMs / 1000)}
        </time>
      </span>
      <button
        ref={sendButton}
        type="button"
        className="send-button"
        onClick={recorder.stop}
        disabled={state.phase !== 'recording'}
        aria-label={t('media.voice.send')}
      >
        {state.phase === 'recording' ? <SendHorizontal size={20} aria-hidden="true" /> : <Square size={16} aria-hidden="true" />}
      </button>
    </div>
  );
}
