import { X } from 'lucide-react';
import { useEffect, useRef, type ReactNode } from 'react';
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
  /** More under the caption (the album viewer's caption editor). */
  children?: ReactNode;
}

/** Full screen on a native <dialog>: the photo, its voice playing at once, the caption. Esc closes. */
export function MediaViewer({ image, voice, caption, hidden, onClose, children }: Props) {
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

  // Esc is taken before the browser turns it into a close request: browsers may group modal
  // dialogs opened one from another (an album, then this) and close both at once.
  const close = useRef(onClose);
  close.current = onClose;
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'Escape') return;
      e.preventDefault();
      e.stopPropagation();
      close.current();
    };
    document.addEventListener('keydown', onKey, true);
    return () => document.removeEventListener('keydown', onKey, true);
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
      {(voice || caption || children) && (
        <div className="viewer-footer">
          {caption && <p className="viewer-caption">{caption}</p>}
          {children}
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
