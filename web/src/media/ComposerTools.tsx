import { Camera, Flame, ImagePlus, MicVocal, X } from 'lucide-react';
import { useId, useRef, useState } from 'react';
import { useI18n } from '../i18n';
import { BURN_DEFAULT_S, BURN_MAX_S, BURN_MIN_S, burnSeconds } from './burn';

interface ToolsProps {
  open: boolean;
  burnOn: boolean;
  onPhotoFile: (file: File) => void;
  onCamera: () => void;
  onVoicePhoto: () => void;
  onBurnToggle: () => void;
}

/** The row of attachments above the composer: photo, camera, voice photo, burn after reading. */
export function ComposerTools({ open, burnOn, onPhotoFile, onCamera, onVoicePhoto, onBurnToggle }: ToolsProps) {
  const { t } = useI18n();
  const fileInput = useRef<HTMLInputElement>(null);
  if (!open) return null;
  return (
    <div className="composer-tools" role="group" aria-label={t('media.attach')} data-testid="composer-tools">
      <button type="button" className="tool" onClick={() => fileInput.current?.click()}>
        <ImagePlus size={20} aria-hidden="true" />
        <span>{t('media.choosePhoto')}</span>
      </button>
      <button type="button" className="tool" onClick={onCamera}>
        <Camera size={20} aria-hidden="true" />
        <span>{t('media.takePhoto')}</span>
      </button>
      <button type="button" className="tool" onClick={onVoicePhoto}>
        <MicVocal size={20} aria-hidden="true" />
        <span>{t('media.voicePhoto')}</span>
      </button>
      <button type="button" className={`tool${burnOn ? ' tool-on' : ''}`} aria-pressed={burnOn} onClick={onBurnToggle}>
        <Flame size={20} aria-hidden="true" />
        <span>{t('chat.sealed')}</span>
      </button>
      <input
        ref={fileInput}
        type="file"
        accept="image/*"
        hidden
        data-testid="photo-file"
        onChange={(e) => {
          const file = e.target.files?.[0];
          if (file) onPhotoFile(file);
          e.target.value = '';
        }}
      />
    </div>
  );
}

/** Shown while burn after reading is on: the seconds each reader gets, and a way off. */
export function BurnBar({ seconds, onSeconds, onOff }: { seconds: number; onSeconds: (s: number) => void; onOff: () => void }) {
  const { t } = useI18n();
  const inputId = useId();
  const [draft, setDraft] = useState(String(seconds));
  const commit = () => {
    const s = burnSeconds(draft) ?? BURN_DEFAULT_S;
    setDraft(String(s));
    onSeconds(s);
  };
  return (
    <div className="burn-bar" data-testid="burn-bar">
      <Flame size={16} aria-hidden="true" />
      <label htmlFor={inputId}>{t('burn.composer')}</label>
      <input
        id={inputId}
        type="number"
        inputMode="numeric"
        min={BURN_MIN_S}
        max={BURN_MAX_S}
        step={1}
        value={draft}
        onChange={(e) => {
          setDraft(e.target.value);
          const s = burnSeconds(e.target.value);
          if (s !== null && String(s) === e.target.value.trim()) onSeconds(s);
        }}
        onBlur={commit}
        aria-describedby={`${inputId}-unit`}
      />
      <span id={`${inputId}-unit`}>{t('burn.unit', { min: BURN_MIN_S, max: BURN_MAX_S })}</span>
      <button type="button" className="icon-button icon-button-small" onClick={onOff} aria-label={t('burn.off')}>
        <X size={16} aria-hidden="true" />
      </button>
    </div>
  );
}
