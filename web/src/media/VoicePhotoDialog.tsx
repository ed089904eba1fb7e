import { ImagePlus, Mic, RotateCcw, Square } from 'lucide-react';
import { useEffect, useId, useMemo, useRef, useState } from 'react';
import { useI18n } from '../i18n';
import { Dialog } from '../ui/Dialog';
import { clockText } from './burn';
import { CameraView } from './CameraView';
import { captureProblemText } from './problems';
import { useVoiceRecorder } from './useVoiceRecorder';

export interface VoicePhoto {
  photo: Blob;
  clip: Blob;
  caption: string;
}

function useObjectUrl(blob: Blob | null): string | null {
  const url = useMemo(() => (blob ? URL.createObjectURL(blob) : null), [blob]);
  useEffect(() => () => (url ? URL.revokeObjectURL(url) : undefined), [url]);
  return url;
}

/** A photo (from a file or the camera) and a voice clip spoken over it, sent together. */
export function VoicePhotoDialog({ busy, onSend, onClose }: { busy: boolean; onSend: (v: VoicePhoto) => void; onClose: () => void }) {
  const { t } = useI18n();
  const [photo, setPhoto] = useState<Blob | null>(null);
  const [camera, setCamera] = useState(false);
  const [caption, setCaption] = useState('');
  const recorder = useVoiceRecorder();
  const { state } = recorder;
  const photoUrl = useObjectUrl(photo);
  const clip = state.phase === 'recorded' ? state.clip : null;
  const clipUrl = useObjectUrl(clip);
  const fileInput = useRef<HTMLInputElement>(null);
  const captionId = useId();

  const footer = (
    <div className="dialog-actions">
      <button type="button" className="button button-ghost" onClick={onClose}>
        {t('common.cancel')}
      </button>
      <button type="button" className="button button-primary" disabled={!photo || !clip || busy} onClick={() => photo && clip && onSend({ photo, clip, caption: caption.trim() })}>
        {busy ? t('media.sending') : t('composer.send')}
      </button>
    </div>
  );

  return (
    <Dialog title={t('media.voicePhoto')} onClose={onClose} footer={footer}>
      <section className="voice-photo-step" aria-label={t('media.voicePhoto.photoStep')}>
        {photoUrl ? (
          <div className="voice-photo-preview">
            <img src={photoUrl} alt={t('media.voicePhoto.chosen')} />
            <button type="button" className="link-button" onClick={() => setPhoto(null)}>
              <RotateCcw size={14} aria-hidden="true" /> {t('media.voicePhoto.otherPhoto')}
            </button>
          </div>
        ) : camera ? (
          <CameraView
            onCapture={(blob) => {
              setPhoto(blob);
              setCamera(false);
            }}
          />
        ) : (
          <div className="voice-photo-pick">
            <button type="button" className="button button-secondary" onClick={() => fileInput.current?.click()}>
              <ImagePlus size={18} aria-hidden="true" /> {t('media.choosePhoto')}
            </button>
            <button type="button" className="button button-secondary" onClick={() => setCamera(true)}>
              {t('media.takePhoto')}
            </button>
            <input
              ref={fileInput}
              type="file"
              accept="image/*"
              hidden
              data-testid="voice-photo-file"
              onChange={(e) => {
                const file = e.target.files?.[0];
                if (file) setPhoto(file);
                e.target.value = '';
              }}
            />
          </div>
        )}
      </section>
      <section className="voice-photo-step" aria-label={t('media.voicePhoto.voiceStep')}>
        {state.phase === 'recording' || state.phase === 'asking' || state.phase === 'finishing' ? (
          <div className="voice-bar">
            <span className={`rec-dot${state.phase === 'recording' ? ' rec-live' : ''}`} aria-hidden="true" />
            <span className="voice-bar-status" role="status">
              {state.phase === 'asking' ? t('media.mic.asking') : t('media.voice.recording')}{' '}
              <time data-testid="voice-elapsed">{clockText(recorder.elapsedMs / 1000)}</time>
            </span>
            <button type="button" className="button button-primary" onClick={recorder.stop} disabled={state.phase !== 'recording'}>
              <Square size={14} aria-hidden="true" /> {t('media.voice.stop')}
            </button>
          </div>
        ) : clipUrl ? (
          <div className="voice-photo-clip">
            <audio controls src={clipUrl} aria-label={t('media.voicePhoto.yourVoice')} />
            <button type="button" className="link-button" onClick={() => void recorder.start()}>
              <RotateCcw size={14} aria-hidden="true" /> {t('media.voice.again')}
            </button>
          </div>
        ) : (
          <>
            <button type="button" className="button button-secondary" onClick={() => void recorder.start()}>
              <Mic size={18} aria-hidden="true" /> {t('media.voice.record')}
            </button>
            {state.phase === 'failed' && (
              <p className="form-error" role="alert" data-testid="voice-problem">
                {captureProblemText('microphone', state.problem, t)}
              </p>
            )}
          </>
        )}
      </section>
      <div className="field">
        <label htmlFor={captionId}>{t('media.caption')}</label>
        <input id={captionId} type="text" value={caption} maxLength={2000} onChange={(e) => setCaption(e.target.value)} />
      </div>
    </Dialog>
  );
}
