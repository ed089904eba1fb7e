import type { Conversation } from '../api/types';
import type { Translate } from '../i18n';
import { toPlainText } from '../lib/markdown';

export function conversationTitle(conv: Conversation, names: Map<string, string>, t: Translate): string {
  if (conv.kind === 'dm') return (conv.peer_id && names.get(conv.peer_id)) || conv.title || t('chat.direct');
  return conv.title || t('info.title');
}

export function previewText(conv: Conversation, names: Map<string, string>, meId: string, t: Translate): string {
  const m = conv.last_message;
  if (!m) return t('chats.noMessages');
  if (m.recalled) return t('chats.recalled');
  let body: string;
  if (m.burned) body = t('chat.burned');
  else if (m.burn_after_s != null) body = `🔥 ${t('chat.sealed')}`; // never its content, even opened
  else if (m.type === 'image' || m.type === 'voice_photo') body = `[${t('chat.photo')}] ${toPlainText(m.text)}`.trim();
  else if (m.type === 'voice') body = `[${t('chat.voice')}] ${toPlainText(m.text)}`.trim();
  else body = toPlainText(m.text).slice(0, 140);
  if (m.sender_id === meId) return `${t('chats.you')}: ${body}`;
  if (conv.kind === 'group') return `${names.get(m.sender_id) ?? t('chat.unknownUser')}: ${body}`;
  return body;
}
