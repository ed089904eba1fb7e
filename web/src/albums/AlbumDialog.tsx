import { useQueryClient } from '@tanstack/react-query';
import { ImagePlus, Mic } from 'lucide-react';
import { useRef, useState } from 'react';
import { api } from '../api/endpoints';
import { useSession } from '../app/context';
import { isAdmin, useOrgs } from '../app/orgs';
import type { Media } from '../api/types';
import { useI18n } from '../i18n';
import { clockText } from '../media/burn';
import { MediaViewer } from '../media/MediaViewer';
import { uploadErrorText } from '../media/problems';
import { useMediaUrl } from '../media/useMediaUrl';
import { newClientMsgId } from '../state/outbox';
import { Dialog } from '../ui/Dialog';
import { errorText } from '../ui/format';
import { albumKeys, albumsApi, type Album, type AlbumItem } from './api';
import { useAlbumItems } from './hooks';

/** The Media objects the viewer shows for an album item: its photo and, for a voice photo, its voice. */
export function itemMedia(item: AlbumItem): { image: Media; voice: Media | null } {
  const image: Media = { id: item.media_id, kind: 'image', mime: 'image/*', size: 0, width: item.width, height: item.height };
  const voice: Media | null = item.voice_media_id
    ? { id: item.voice_media_id, kind: 'audio', mime: 'audio/*', size: 0, duration_ms: item.duration_ms, waveform: item.waveform }
    : null;
  return { image, voice };
}

/** One album: its photos as a grid, newest first, a page at a time; add from an upload. */
export function AlbumDialog({ album, onClose }: { album: Album; onClose: () => void }) {
  const { t } = useI18n();
  const queryClient = useQueryClient();
  const { items, isLoading, hasNextPage, fetchNextPage, isFetchingNextPage } = useAlbumItems(album.id);
  const [viewing, setViewing] = useState<AlbumItem | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const fileInput = useRef<HTMLInputElement>(null);

  const addFile = async (file: File) => {
    setBusy(true);
    setError(null);
    try {
      const media = await api.uploadMedia(file, file.name || 'photo');
      await albumsApi.addItem(album.id, { client_item_id: newClientMsgId(), media_id: media.id, caption: '' });
      await queryClient.invalidateQueries({ queryKey: albumKeys.items(album.id) });
      void queryClient.invalidateQueries({ queryKey: albumKeys.all });
    } catch (err) {
      setError(uploadErrorText(err, t));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog title={album.title} onClose={onClose} wide>
      <div className="album-toolbar">
        <button type="button" className="button button-secondary" onClick={() => fileInput.current?.click()} disabled={busy}>
          <ImagePlus size={18} aria-hidden="true" /> {busy ? t('media.sending') : t('albums.addPhoto')}
        </button>
        <input
          ref={fileInput}
          type="file"
          accept="image/*"
          hidden
          data-testid="album-file"
          onChange={(e) => {
            const file = e.target.files?.[0];
            if (file) void addFile(file);
            e.target.value = '';
          }}
        />
      </div>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      {isLoading ? (
        <p className="muted">{t('common.loading')}</p>
      ) : items.length === 0 ? (
        <p className="muted">{t('albums.empty')}</p>
      ) : (
        <ul className="album-grid" aria-label={t('albums.photos')} data-testid="album-grid">
          {items.map((item) => (
            <li key={item.id}>
              <GridCell item={item} onOpen={() => setViewing(item)} />
            </li>
          ))}
        </ul>
      )}
      {hasNextPage && (
        <button type="button" className="button button-ghost" onClick={() => void fetchNextPage()} disabled={isFetchingNextPage}>
          {isFetchingNextPage ? t('common.loading') : t('albums.more')}
        </button>
      )}
      {viewing && <ItemViewer album={album} item={viewing} onClose={() => setViewing(null)} />}
    </Dialog>
  );
}

function GridCell({ item, onOpen }: { item: AlbumItem; onOpen: () => void }) {
  const { t } = useI18n();
  const { data } = useMediaUrl(item.media_id, true);
  const label = item.caption || (item.kind === 'voice_photo' ? t('media.voicePhoto') : t('chat.photo'));
  return (
    <button type="button" className="album-cell" onClick={onOpen} aria-label={label} data-testid="album-item">
      {data ? <img src={data} alt="" /> : <span className="media-loading" />}
      {item.kind === 'voice_photo' && (
        <span className="media-voice-badge">
          <Mic size={12} aria-hidden="true" />
          {item.duration_ms ? clockText(Math.round(item.duration_ms / 1000)) : ''}
        </span>
      )}
    </button>
  );
}

/** Full screen with the voice playing; below it the caption, which can be edited. */
function ItemViewer({ album, item, onClose }: { album: Album; item: AlbumItem; onClose: () => void }) {
  const { t } = useI18n();
  const queryClient = useQueryClient();
  const { me } = useSession();
  const { data: orgs } = useOrgs();
  // The server lets who added it, the album's owner and the team's admins change a caption.
  const mayEdit = item.added_by === me.id || album.owner_id === me.id || isAdmin(orgs?.find((o) => o.id === album.org_id) ?? null);
  const { image, voice } = itemMedia(item);
  const [editing, setEditing] = useState(false);
  const [caption, setCaption] = useState(item.caption);
  const [error, setError] = useState<string | null>(null);
  const save = async () => {
    try {
      await albumsApi.editCaption(album.id, item.id, caption.trim());
      setEditing(false);
      void queryClient.invalidateQueries({ queryKey: albumKeys.items(album.id) });
    } catch (err) {
      setError(errorText(err, t));
    }
  };
  return (
    <MediaViewer image={image} voice={voice} caption={editing ? '' : caption} onClose={onClose}>
      {editing ? (
        <form
          className="viewer-edit"
          onSubmit={(e) => {
            e.preventDefault();
            void save();
          }}
        >
          <input value={caption} maxLength={500} onChange={(e) => setCaption(e.target.value)} aria-label={t('media.caption')} autoFocus />
          <button type="submit" className="button button-primary">
            {t('composer.save')}
          </button>
        </form>
      ) : (
        mayEdit && (
          <button type="button" className="link-button viewer-edit-button" onClick={() => setEditing(true)}>
            {t('albums.editCaption')}
          </button>
        )
      )}
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
    </MediaViewer>
  );
}
