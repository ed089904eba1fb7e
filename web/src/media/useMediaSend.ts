import { useCallback, useState } from 'react';
import { api } from '../api/endpoints';
import { useSession } from '../app/context';
import { useI18n } from '../i18n';
import type { MessageType } from '../state/outbox';
import { uploadErrorText } from './problems';

export interface MediaPart {
  blob: Blob;
  name: string;
}

/**
 * Uploads a photo and/or voice clip, then hands the message to the outbox, which sends it
 * with one client_msg_id however often it has to retry. An upload that fails sends nothing.
 */
export function useMediaSend(conversationId: string, burnAfterS: number | null) {
  const { t } = useI18n();
  const session = useSession();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const send = useCallback(
    async (type: Exclude<MessageType, 'text'>, parts: MediaPart[], caption: string): Promise<boolean> => {
      setBusy(true);
      setError(null);
      try {
        const ids: string[] = [];
        for (const part of parts) ids.push((await api.uploadMedia(part.blob, part.name)).id);
        session.sender.compose({ conversation_id: conversationId, text: caption, media: { type, media_ids: ids }, burn_after_s: burnAfterS });
        return true;
      } catch (err) {
        setError(uploadErrorText(err, t));
        return false;
      } finally {
        setBusy(false);
      }
    },
    [conversationId, burnAfterS, session, t],
  );

  return { send, busy, error, clearError: () => setError(null) };
}
