import { X } from 'lucide-react';
import { useEffect, useRef } from 'react';
import type { Media } from '../api/types';
import { useI18n } from '../i18n';
import { useMediaUrl } from './useMediaUrl';
import { VoicePlayer } from './VoicePlayer';

interface Props {
  image: Media | null;
  voice: Media | null;
  caption: string;
  /** Burn-after-reading content while the page is not watched. */
  hidden?: boolean;
  onClose: () => void;
}

/** Full screen on a native <dialog>: the photo, its voice playing at once, the caption. Esc closes. */
export function MediaViewer({ image, voice, caption, hidden, onClose }: Props) {
  const { t } = useI18n();
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    const previous = document.activeElement as HTMLElement | null;
    if (dialog && !dialog.open) dialog.showModal();
    return () => {
      dialog?.close();
      previous?.focus?.();
    };
  }, []);
  return (
    <dialog
      ref={ref}
      className={`viewer${hidden ? ' burn-hidden' : ''}`}
      aria-label={voice && image ? t('media.voicePhoto') : t('chat.photo')}
      data-testid="media-viewer"
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
    >
      <button type="button" className="icon-button viewer-close" onClick={onClose} aria-label={t('dialog.close')}>
        <X size={24} aria-hidden="true" />
      </button>
      <div className="viewer-stage">{image && <FullImage media={image} />}</div>
      {(voice || caption) && (
        <div className="viewer-footer">
          {caption && <p className="viewer-caption">{caption}</p>}
          {voice && <VoicePlayer media={voice} autoPlay large />}
        </div>
      )}
    </dialog>
  );
}

function FullImage({ media }: { media: Media }) {
  const { t } = useI18n();
  const full = useMediaUrl(media.id, false);
  const thumb = useMediaUrl(media.id, true);
  const src = full.data ?? thumb.data;
  if (full.isError && thumb.isError) return <p className="media-failed">{t('chat.mediaFailed')}</p>;
  return src ? <img className="viewer-image" src={src} alt={t('chat.photo')} data-full={full.data ? 'true' : 'false'} /> : <span className="viewer-image media-loading" aria-label={t('common.loading')} />;
}
