import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Images, Plus } from 'lucide-react';
import { useId, useState } from 'react';
import type { Org } from '../api/types';
import { useI18n } from '../i18n';
import { errorText } from '../ui/format';
import { AlbumCover } from './AlbumCover';
import { AlbumDialog } from './AlbumDialog';
import { albumKeys, albumsApi, type Album } from './api';
import { useAlbums } from './hooks';

/** The team page's albums: covers of the albums the caller sees, and a new team album. */
export function AlbumsCard({ org }: { org: Org }) {
  const { t } = useI18n();
  const queryClient = useQueryClient();
  const { albums, isLoading, hasNextPage, fetchNextPage, isFetchingNextPage } = useAlbums(org.id);
  const [open, setOpen] = useState<Album | null>(null);
  const [title, setTitle] = useState('');
  const [error, setError] = useState<string | null>(null);
  const inputId = useId();
  const create = useMutation({
    mutationFn: () => albumsApi.create(org.id, title.trim()),
    onSuccess: (album) => {
      setTitle('');
      setError(null);
      void queryClient.invalidateQueries({ queryKey: albumKeys.list(org.id) });
      setOpen(album);
    },
    onError: (err) => setError(errorText(err, t)),
  });

  return (
    <section className="card albums-card" aria-labelledby="albums-title">
      <div className="card-icon" aria-hidden="true">
        <Images size={20} />
      </div>
      <h2 id="albums-title">{t('albums.title')}</h2>
      {isLoading ? (
        <p className="muted">{t('common.loading')}</p>
      ) : albums.length === 0 ? (
        <p className="muted">{t('albums.none')}</p>
      ) : (
        <ul className="album-list" aria-label={t('albums.title')}>
          {albums.map((album) => (
            <li key={album.id}>
              <button type="button" className="album-tile" onClick={() => setOpen(album)} data-testid="album-tile">
                <AlbumCover mediaId={album.cover_media_id} />
                <span className="album-tile-title">{album.title}</span>
                <span className="album-tile-count">{t('albums.count', { count: album.item_count })}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
      {hasNextPage && (
        <button type="button" className="link-button" onClick={() => void fetchNextPage()} disabled={isFetchingNextPage}>
          {t('albums.more')}
        </button>
      )}
      <form
        className="input-row"
        onSubmit={(e) => {
          e.preventDefault();
          if (title.trim()) create.mutate();
        }}
      >
        <label htmlFor={inputId} className="visually-hidden">
          {t('albums.newTitle')}
        </label>
        <input id={inputId} value={title} maxLength={100} placeholder={t('albums.newTitle')} onChange={(e) => setTitle(e.target.value)} />
        <button type="submit" className="button button-secondary" disabled={!title.trim() || create.isPending}>
          <Plus size={16} aria-hidden="true" /> {t('albums.create')}
        </button>
      </form>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      {open && <AlbumDialog album={open} onClose={() => setOpen(null)} />}
    </section>
  );
}
