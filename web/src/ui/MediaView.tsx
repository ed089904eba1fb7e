import { FolderPlus, ImageOff, Mic } from 'lucide-react';
import { useState } from 'react';
import { SaveToAlbumDialog } from '../albums/SaveToAlbumDialog';
import type { Media, Message } from '../api/types';
import { useI18n } from '../i18n';
import { clockText } from '../media/burn';
import { MediaViewer } from '../media/MediaViewer';
import { useMediaUrl } from '../media/useMediaUrl';
import { VoicePlayer } from '../media/VoicePlayer';

interface Props {
  media: Media[];
  caption: string;
  /** Burn-after-reading content while the page is not watched: blurred, here and full screen. */
  hidden?: boolean;
  /** The message showing it: its photo can then be saved to an album (not burn messages). */
  message?: Message;
  orgId?: string;
}

/**
 * A message's photo and voice: a voice message plays in the bubble; a photo (with its voice,
 * for a voice photo) opens full screen, where the voice plays at once.
 */
export function MediaView({ media, caption, hidden, message, orgId }: Props) {
  const { t } = useI18n();
  const [viewing, setViewing] = useState(false);
  const [saving, setSaving] = useState(false);
  const savable = message && orgId && message.burn_after_s == null && (message.type === 'image' || message.type === 'voice_photo');
  const image = media.find((m) => m.kind === 'image') ?? null;
  const voice = media.find((m) => m.kind === 'audio') ?? null;
  return (
    <div className="media">
      {image ? (
        <button
          type="button"
          className="media-open"
          onClick={() => setViewing(true)}
          aria-label={voice ? t('media.openVoicePhoto') : t('media.openPhoto')}
          data-testid={voice ? 'voice-photo' : 'photo'}
        >
          <Thumbnail media={image} />
          {voice && (
            <span className="media-voice-badge">
              <Mic size={14} aria-hidden="true" />
              {voice.duration_ms ? clockText(Math.round(voice.duration_ms / 1000)) : t('chat.voice')}
            </span>
          )}
        </button>
      ) : (
        voice && <VoicePlayer media={voice} />
      )}
      {viewing && (
        <MediaViewer image={image} voice={voice} caption={caption} hidden={hidden} onClose={() => setViewing(false)}>
          {savable && (
            <button type="button" className="button button-secondary viewer-action" onClick={() => setSaving(true)}>
              <FolderPlus size={18} aria-hidden="true" /> {t('albums.saveTo')}
            </button>
          )}
        </MediaViewer>
      )}
      {saving && message && orgId && <SaveToAlbumDialog message={message} orgId={orgId} onClose={() => setSaving(false)} />}
    </div>
  );
}

function Thumbnail({ media }: { media: Media }) {
  const { t } = useI18n();
  const { data, isError } = useMediaUrl(media.id, true);
  if (isError)
    return (
      <span className="media-failed">
        <ImageOff size={18} aria-hidden="true" /> {t('chat.mediaFailed')}
      </span>
    );
  const ratio = media.width && media.height ? `${media.width} / ${media.height}` : '4 / 3';
  return data ? (
    <img className="media-image" src={data} alt={t('chat.photo')} style={{ aspectRatio: ratio }} />
  ) : (
    <span className="media-image media-loading" style={{ aspectRatio: ratio }} aria-label={t('common.loading')} />
  );
}
