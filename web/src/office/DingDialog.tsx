// DING a message (or new text) to chosen people of the conversation.
import { useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import type { Message } from '../api/types';
import { useChat, useSession } from '../app/context';
import { useI18n } from '../i18n';
import { newClientMsgId } from '../state/outbox';
import { toPlainText } from '../lib/markdown';
import { Dialog } from '../ui/Dialog';
import { officeApi } from './api';
import { officeError, officeKeys } from './hooks';

interface Props {
  orgId: string;
  message: Message;
  onClose: () => void;
}

export function DingDialog({ orgId, message, onClose }: Props) {
  const { t } = useI18n();
  const session = useSession();
  const queryClient = useQueryClient();
  const members = useChat((s) => s.members[message.conversation_id]);
  const others = Object.values(members?.byId ?? {}).filter((m) => m.user_id !== session.me.id);
  const [chosen, setChosen] = useState<string[]>(() => (others.length <= 5 ? others.map((m) => m.user_id) : []));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [dingId] = useState(newClientMsgId);

  const send = async () => {
    setBusy(true);
    setError(null);
    try {
      await officeApi.sendDing(orgId, { client_ding_id: dingId, recipient_ids: chosen, message_id: message.id, text: toPlainText(message.text).slice(0, 2000) });
      void queryClient.invalidateQueries({ queryKey: officeKeys.dings(orgId) });
      onClose();
    } catch (err) {
      setError(officeError(err, t));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog
      title={t('ding.compose')}
      onClose={onClose}
      footer={
        <button type="button" className="button button-primary" disabled={busy || chosen.length === 0} onClick={() => void send()}>
          {t('ding.send')}
        </button>
      }
    >
      <p className="muted small">{t('ding.composeHint')}</p>
      <blockquote className="ding-quote">{toPlainText(message.text)}</blockquote>
      <fieldset className="picker-list">
        <legend>{t('ding.recipients')}</legend>
        {others.map((m) => (
          <label key={m.user_id} className="office-check">
            <input
              type="checkbox"
              checked={chosen.includes(m.user_id)}
              onChange={(e) => setChosen(e.target.checked ? [...chosen, m.user_id] : chosen.filter((id) => id !== m.user_id))}
            />
            {m.display_name}
          </label>
        ))}
      </fieldset>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
    </Dialog>
  );
}
