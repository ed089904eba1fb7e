// The albums API (docs/API.md, Albums): team albums and conversation albums of photos and
// voice photos.

import { http } from '../api/http';
import type { Schemas } from '../api/types';

export type Album = Schemas['AlbumOut'];
export type AlbumPage = Schemas['AlbumPage'];
export type AlbumItem = Schemas['AlbumItemOut'];
export type AlbumItemPage = Schemas['AlbumItemPage'];
type AddItemIn = Partial<Schemas['AddItemIn']> & Pick<Schemas['AddItemIn'], 'client_item_id'>;

const enc = encodeURIComponent;

export const ALBUM_PAGE = 50;
export const ITEM_PAGE = 30;

export const albumsApi = {
  list: (orgId: string, query: { before?: string; conversation_id?: string } = {}) =>
    http<AlbumPage>(`/orgs/${enc(orgId)}/albums`, { query: { ...query, limit: ALBUM_PAGE } }),
  create: (orgId: string, title: string, conversationId: string | null = null) =>
    http<Album>(`/orgs/${enc(orgId)}/albums`, { method: 'POST', body: { title, conversation_id: conversationId } satisfies Schemas['CreateAlbumIn'] }),
  get: (albumId: string) => http<Album>(`/albums/${enc(albumId)}`),
  rename: (albumId: string, title: string) => http<Album>(`/albums/${enc(albumId)}`, { method: 'PATCH', body: { title } satisfies Schemas['UpdateAlbumIn'] }),
  remove: (albumId: string) => http<void>(`/albums/${enc(albumId)}`, { method: 'DELETE' }),
  items: (albumId: string, before?: string) => http<AlbumItemPage>(`/albums/${enc(albumId)}/items`, { query: { before, limit: ITEM_PAGE } }),
  addItem: (albumId: string, body: AddItemIn) => http<AlbumItem>(`/albums/${enc(albumId)}/items`, { method: 'POST', body }),
  editCaption: (albumId: string, itemId: string, caption: string) =>
    http<AlbumItem>(`/albums/${enc(albumId)}/items/${enc(itemId)}`, { method: 'PATCH', body: { caption } satisfies Schemas['UpdateItemIn'] }),
  removeItem: (albumId: string, itemId: string) => http<void>(`/albums/${enc(albumId)}/items/${enc(itemId)}`, { method: 'DELETE' }),
};

export const albumKeys = {
  all: ['albums'] as const,
  list: (orgId: string) => ['albums', 'list', orgId] as const,
  items: (albumId: string) => ['albums', 'items', albumId] as const,
};
