import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Check, Plus } from 'lucide-react';
import { useId, useRef, useState } from 'react';
import type { Message } from '../api/types';
import { useI18n } from '../i18n';
import { newClientMsgId } from '../state/outbox';
import { Dialog } from '../ui/Dialog';
import { errorText } from '../ui/format';
import { AlbumCover } from './AlbumCover';
import { albumKeys, albumsApi, type Album } from './api';
import { useAlbums } from './hooks';

/** Saves a photo or voice photo message into a team album (or a new one), caption included. */
export function SaveToAlbumDialog({ message, orgId, onClose }: { message: Message; orgId: string; onClose: () => void }) {
  const { t } = useI18n();
  const queryClient = useQueryClient();
  const { albums, isLoading } = useAlbums(orgId);
  const [title, setTitle] = useState('');
  const [saved, setSaved] = useState<Album | null>(null);
  const [error, setError] = useState<string | null>(null);
  const inputId = useId();
  // One id per message and album: a double tap or a retry adds the item once.
  const itemIds = useRef(new Map<string, string>());

  const save = useMutation({
    mutationFn: async (target: Album | string) => {
      const album = typeof target === 'string' ? await albumsApi.create(orgId, target) : target;
      const clientItemId = itemIds.current.get(album.id) ?? newClientMsgId();
      itemIds.current.set(album.id, clientItemId);
      await albumsApi.addItem(album.id, { client_item_id: clientItemId, message_id: message.id, caption: message.text.slice(0, 500) });
      return album;
    },
    onSuccess: (album) => {
      setSaved(album);
      setError(null);
      void queryClient.invalidateQueries({ queryKey: albumKeys.all });
    },
    onError: (err) => setError(errorText(err, t)),
  });

  return (
    <Dialog title={t('albums.saveTo')} onClose={onClose}>
      {saved ? (
        <p className="notice" role="status">
          <Check size={16} aria-hidden="true" /> {t('albums.saved', { album: saved.title })}
        </p>
      ) : (
        <>
          {isLoading ? (
            <p className="muted">{t('common.loading')}</p>
          ) : albums.length > 0 ? (
            <ul className="album-pick" aria-label={t('albums.title')}>
              {albums.map((album) => (
                <li key={album.id}>
                  <button type="button" className="album-pick-row" onClick={() => save.mutate(album)} disabled={save.isPending}>
                    <AlbumCover mediaId={album.cover_media_id} />
                    <span>
                      <strong>{album.title}</strong>
                      <small>{t('albums.count', { count: album.item_count })}</small>
                    </span>
                  </button>
                </li>
              ))}
            </ul>
          ) : (
            <p className="muted">{t('albums.none')}</p>
          )}
          <form
            className="input-row"
            onSubmit={(e) => {
              e.preventDefault();
              if (title.trim()) save.mutate(title.trim());
            }}
          >
            <label htmlFor={inputId} className="visually-hidden">
              {t('albums.newTitle')}
            </label>
            <input id={inputId} value={title} maxLength={100} placeholder={t('albums.newTitle')} onChange={(e) => setTitle(e.target.value)} />
            <button type="submit" className="button button-secondary" disabled={!title.trim() || save.isPending}>
              <Plus size={16} aria-hidden="true" /> {t('albums.createAndSave')}
            </button>
          </form>
        </>
      )}
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
    </Dialog>
  );
}
