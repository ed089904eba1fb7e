import { Images } from 'lucide-react';
import { useMediaUrl } from '../media/useMediaUrl';

/** An album's newest photo as a square thumbnail; a placeholder while it is empty. */
export function AlbumCover({ mediaId }: { mediaId: string | null }) {
  return mediaId ? <CoverImage mediaId={mediaId} /> : <span className="album-cover album-cover-empty" aria-hidden="true"><Images size={28} /></span>;
}

function CoverImage({ mediaId }: { mediaId: string }) {
  const { data } = useMediaUrl(mediaId, true);
  return data ? <img className="album-cover" src={data} alt="" /> : <span className="album-cover media-loading" aria-hidden="true" />;
}
