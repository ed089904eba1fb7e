import { useQuery } from '@tanstack/react-query';
import { API_BASE } from '../api/http';
import { useSession } from '../app/context';

/**
 * Media needs the bearer token, which <img> and <audio> cannot send: fetch it, then show a
 * blob: URL (allowed by the CSP's img-src and media-src).
 */
export function useMediaUrl(id: string, thumb: boolean) {
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
