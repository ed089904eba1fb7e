import { useQuery } from '@tanstack/react-query';
import { ImageOff, Mic } from 'lucide-react';
import { API_BASE } from '../api/http';
import type { Media } from '../api/types';
import { useSession } from '../app/context';
import { useI18n } from '../i18n';

/**
 * Media needs the bearer token, which <img> and <audio> cannot send: fetch it, then show a
 * blob: URL (allowed by the CSP's img-src and media-src).
 */
function useMediaUrl(id: string, thumb: boolean) {
  const { token } = useSession();
  return useQuery({
    queryKey: ['media', id, thumb],
    staleTime: Infinity,
    gcTime: 10 * 60_000,
    retry: 1,
    queryFn: async () => {
      const answer = await fetch(`${API_BASE}/media/${encodeURIComponent(id)}${thumb ? '?thumb=1' : ''}`, {
        headers: { Authorization: `Bearer ${token}` },
      });
      if (!answer.ok) throw new Error(`media ${answer.status}`);
      return URL.createObjectURL(await answer.blob());
    },
  });
}

export function MediaView({ media }: { media: Media[] }) {
  return (
    <div className="media">
      {media.map((m) => (m.kind === 'image' ? <ImageView key={m.id} media={m} /> : <AudioView key={m.id} media={m} />))}
    </div>
  );
}

function ImageView({ media }: { media: Media }) {
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

function AudioView({ media }: { media: Media }) {
  const { t } = useI18n();
  const { data, isError } = useMediaUrl(media.id, false);
  const seconds = media.duration_ms ? Math.round(media.duration_ms / 1000) : null;
  return (
    <span className="media-audio">
      <Mic size={16} aria-hidden="true" />
      {data ? <audio controls src={data} aria-label={t('chat.voice')} /> : <span>{isError ? t('chat.mediaFailed') : t('chat.voice')}</span>}
      {seconds !== null && <span className="media-duration">{seconds}″</span>}
    </span>
  );
}
