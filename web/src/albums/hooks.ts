import { useInfiniteQuery } from '@tanstack/react-query';
import { albumKeys, albumsApi } from './api';

/** The albums of a team the caller sees (team albums and their conversations'), newest first. */
export function useAlbums(orgId: string) {
  const query = useInfiniteQuery({
    queryKey: albumKeys.list(orgId),
    queryFn: ({ pageParam }) => albumsApi.list(orgId, { before: pageParam ?? undefined }),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next_before,
  });
  return { ...query, albums: query.data?.pages.flatMap((p) => p.items) ?? [] };
}

/** An album's items, newest first, a page at a time. */
export function useAlbumItems(albumId: string) {
  const query = useInfiniteQuery({
    queryKey: albumKeys.items(albumId),
    queryFn: ({ pageParam }) => albumsApi.items(albumId, pageParam ?? undefined),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next_before,
  });
  return { ...query, items: query.data?.pages.flatMap((p) => p.items) ?? [] };
}
