import { useQuery } from '@tanstack/react-query';
import { api } from '../api/endpoints';
import type { Message } from '../api/types';
import { useChat, useSession } from '../app/context';
import { useI18n } from '../i18n';
import { receiptSummary } from '../lib/receipts';
import { Avatar } from '../ui/Avatar';
import { Dialog } from '../ui/Dialog';

/** Who has read one of my messages and who has not; updates live as receipts arrive. */
export function ReceiptsDialog({ message, names, onClose }: { message: Message; names: Map<string, string>; onClose: () => void }) {
  const { t } = useI18n();
  const session = useSession();
  const members = useChat((s) => s.members[message.conversation_id]);
  const live = useChat((s) => s.messages[message.conversation_id]?.items.find((m) => m.id === message.id)) ?? message;
  const local = receiptSummary(live, members);
  // Without the full member list (very large groups), ask the server; receipt events refresh it.
  const remote = useQuery({
    queryKey: ['receipts', message.conversation_id, message.id],
    queryFn: () => api.receipts(message.id),
    enabled: !local.detailed,
  });
  const read = local.detailed ? local.readIds : (remote.data?.read ?? []);
  const unread = local.detailed ? local.unreadIds : (remote.data?.unread ?? []);
  const nameOf = (id: string) => names.get(id) ?? members?.byId[id]?.display_name ?? (id === session.me.id ? session.me.display_name : t('chat.unknownUser'));

  const section = (title: string, ids: string[], testId: string) => (
    <section className="receipt-section" aria-label={title} data-testid={testId}>
      <h3>{title}</h3>
      {ids.length === 0 ? (
        <p className="muted">{t('receipt.nobody')}</p>
      ) : (
        <ul className="people-list">
          {ids
            .map((id) => ({ id, name: nameOf(id) }))
            .sort((a, b) => a.name.localeCompare(b.name))
            .map(({ id, name }) => (
              <li key={id} className="person">
                <Avatar id={id} name={name} size="sm" />
                <span>{name}</span>
              </li>
            ))}
        </ul>
      )}
    </section>
  );

  return (
    <Dialog title={t('receipt.title')} onClose={onClose}>
      <blockquote className="receipt-quote">{live.text}</blockquote>
      <div className="receipt-columns" aria-live="polite">
        {section(t('receipt.notRead', { count: unread.length }), unread, 'receipt-unread-list')}
        {section(t('receipt.read', { count: read.length }), read, 'receipt-read-list')}
      </div>
    </Dialog>
  );
}
