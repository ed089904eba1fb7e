import { Mic, Pencil, Plus, Reply, SendHorizontal, X } from 'lucide-react';
import { useEffect, useId, useLayoutEffect, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import { api } from '../api/endpoints';
import type { Conversation, Message } from '../api/types';
import { useChat, useSession } from '../app/context';
import { useI18n } from '../i18n';
import { toPlainText } from '../lib/markdown';
import { filterCandidates, insertMention, mentionQuery, mentionsInText, type Candidate } from '../lib/mentions';
import { BURN_DEFAULT_S } from '../media/burn';
import { CameraDialog } from '../media/CameraDialog';
import { BurnBar, ComposerTools } from '../media/ComposerTools';
import { useMediaSend } from '../media/useMediaSend';
import { clipName } from '../media/recorder';
import { VoiceRecordBar } from '../media/VoiceRecordBar';
import { VoicePhotoDialog } from '../media/VoicePhotoDialog';
import { Avatar } from '../ui/Avatar';
import { errorText } from '../ui/format';

export type ComposerMode = { kind: 'new' } | { kind: 'reply'; message: Message } | { kind: 'edit'; message: Message };

interface Props {
  conversation: Conversation;
  title: string;
  names: Map<string, string>;
  mode: ComposerMode;
  onModeDone: () => void;
}

const MAX_CHARS = 10_000;
// Drafts outlive switching between conversations (not reloads).
const drafts = new Map<string, string>();

export function Composer({ conversation, title, names, mode, onModeDone }: Props) {
  const { t } = useI18n();
  const session = useSession();
  const convId = conversation.id;
  const [text, setText] = useState(() => drafts.get(convId) ?? '');
  const [caret, setCaret] = useState(0);
  const [chosen, setChosen] = useState<Map<string, string>>(new Map());
  const [active, setActive] = useState(0);
  const [dismissed, setDismissed] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const area = useRef<HTMLTextAreaElement>(null);
  const listId = useId();
  const hintId = useId();
  const members = useChat((s) => s.members[convId]);
  const [toolsOpen, setToolsOpen] = useState(false);
  const [burnS, setBurnS] = useState<number | null>(null);
  const [lastBurnS, setLastBurnS] = useState(BURN_DEFAULT_S);
  const [capture, setCapture] = useState<'camera' | 'voicePhoto' | 'voice' | null>(null);
  const media = useMediaSend(convId, burnS);

  // A photo takes the typed text as its caption.
  const sendPhoto = async (photo: Blob, name: string) => {
    setCapture(null);
    setToolsOpen(false);
    if (await media.send('image', [{ blob: photo, name }], text.trim().slice(0, MAX_CHARS))) setText('');
  };

  useEffect(() => {
    drafts.set(convId, text);
  }, [convId, text]);

  // Entering edit mode puts the message in the box; reply mode just focuses it.
  useEffect(() => {
    if (mode.kind === 'edit') setText(mode.message.text);
    if (mode.kind !== 'new') area.current?.focus();
  }, [mode]);

  useLayoutEffect(() => {
    const el = area.current;
    if (!el) return;
    el.style.height = 'auto';
    el.style.height = `${Math.min(el.scrollHeight, 180)}px`;
  }, [text]);

  const candidates = useMemo<Candidate[]>(() => {
    const list: Candidate[] = Object.values(members?.byId ?? {})
      .filter((m) => m.user_id !== session.me.id)
      .map((m) => ({ userId: m.user_id, name: names.get(m.user_id) ?? m.display_name }));
    if (conversation.kind === 'group') list.push({ userId: 'all', name: 'all' });
    return list;
  }, [members, names, session.me.id, conversation.kind]);

  const query = mentionQuery(text, caret);
  const suggestions = query && dismissed !== query.start ? filterCandidates(candidates, query.query) : [];
  const open = suggestions.length > 0;
  const activeIndex = Math.min(active, suggestions.length - 1);

  // Where the caret goes once the box shows the text just set (a picked mention). Placed in
  // the same commit, before the next key is handled: placed a frame later, it moved the caret
  // back over what had been typed meanwhile ("@Cy Ray joins too" became "@Cy Ray  toojoins").
  const caretAfter = useRef<number | null>(null);
  useLayoutEffect(() => {
    const at = caretAfter.current;
    if (at === null) return;
    caretAfter.current = null;
    area.current?.setSelectionRange(at, at);
    area.current?.focus();
  });

  const pick = (c: Candidate) => {
    if (!query) return;
    const next = insertMention(text, query.start, caret, c.name);
    caretAfter.current = next.caret;
    setText(next.text);
    setCaret(next.caret);
    setChosen((m) => new Map(m).set(c.userId, c.name));
    setActive(0);
  };

  const submit = async () => {
    const body = text.trim();
    if (!body || body.length > MAX_CHARS) return;
    setError(null);
    if (mode.kind === 'edit') {
      if (body === mode.message.text) return onModeDone();
      try {
        session.store.dispatch({ kind: 'message.stored', message: await api.editMessage(mode.message.id, body) });
        setText('');
        onModeDone();
      } catch (err) {
        setError(errorText(err, t));
      }
      return;
    }
    session.sender.compose({
      conversation_id: convId,
      text: body,
      reply_to_id: mode.kind === 'reply' ? mode.message.id : null,
      mentions: mentionsInText(body, chosen),
      burn_after_s: burnS,
    });
    setText('');
    setChosen(new Map());
    if (mode.kind === 'reply') onModeDone();
  };

  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (open) {
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        const delta = e.key === 'ArrowDown' ? 1 : -1;
        setActive((activeIndex + delta + suggestions.length) % suggestions.length);
        return;
      }
      if (e.key === 'Enter' || e.key === 'Tab') {
        e.preventDefault();
        pick(suggestions[activeIndex]!);
        return;
      }
      if (e.key === 'Escape') {
        e.preventDefault();
        setDismissed(query!.start);
        return;
      }
    }
    if (e.key === 'Escape' && mode.kind !== 'new') {
      e.preventDefault();
      if (mode.kind === 'edit') setText('');
      onModeDone();
      return;
    }
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      void submit();
    }
  };

  const modeName =
    mode.kind === 'new' ? null : mode.message.sender_id === session.me.id ? session.me.display_name : (names.get(mode.message.sender_id) ?? t('chat.unknownUser'));

  return (
    <div className="composer-wrap">
      {mode.kind !== 'new' && (
        <ContextBar
          mode={mode}
          name={modeName!}
          onCancel={() => {
            if (mode.kind === 'edit') setText('');
            onModeDone();
          }}
        />
      )}
      {open && <MentionList id={listId} suggestions={suggestions} activeIndex={activeIndex} onPick={pick} />}
      {(error ?? media.error) && (
        <p className="form-error composer-error" role="alert">
          {error ?? media.error}
        </p>
      )}
      {media.busy && (
        <p className="composer-status" role="status">
          {t('media.sending')}
        </p>
      )}
      <ComposerTools
        open={toolsOpen && mode.kind !== 'edit'}
        burnOn={burnS !== null}
        onPhotoFile={(file) => void sendPhoto(file, file.name || 'photo')}
        onCamera={() => setCapture('camera')}
        onVoicePhoto={() => setCapture('voicePhoto')}
        onBurnToggle={() => setBurnS((s) => (s === null ? lastBurnS : null))}
      />
      {burnS !== null && mode.kind !== 'edit' && (
        <BurnBar
          seconds={burnS}
          onSeconds={(s) => {
            setBurnS(s);
            setLastBurnS(s);
          }}
          onOff={() => setBurnS(null)}
        />
      )}
      {capture === 'camera' && <CameraDialog onCapture={(photo) => void sendPhoto(photo, 'camera.jpg')} onClose={() => setCapture(null)} />}
      {capture === 'voicePhoto' && (
        <VoicePhotoDialog
          busy={media.busy}
          onClose={() => setCapture(null)}
          onSend={async (v) => {
            const parts = [
              { blob: v.photo, name: v.photo instanceof File && v.photo.name ? v.photo.name : 'photo.jpg' },
              { blob: v.clip, name: clipName(v.clip) },
            ];
            if (await media.send('voice_photo', parts, v.caption)) {
              setCapture(null);
              setToolsOpen(false);
            }
          }}
        />
      )}
      {capture === 'voice' ? (
        <VoiceRecordBar
          onClose={() => setCapture(null)}
          onSend={(clip) => {
            setCapture(null);
            void media.send('voice', [{ blob: clip, name: clipName(clip) }], '');
          }}
        />
      ) : (
      <form
        className="composer"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        {mode.kind !== 'edit' && (
          <button
            type="button"
            className={`icon-button composer-plus${toolsOpen ? ' composer-plus-open' : ''}`}
            aria-label={t('media.attach')}
            aria-expanded={toolsOpen}
            onClick={() => setToolsOpen((v) => !v)}
          >
            <Plus size={22} aria-hidden="true" />
          </button>
        )}
        <textarea
          ref={area}
          rows={1}
          value={text}
          maxLength={MAX_CHARS}
          placeholder={t('composer.placeholder', { name: title })}
          aria-label={t('composer.label')}
          aria-describedby={hintId}
          aria-autocomplete="list"
          aria-controls={open ? listId : undefined}
          aria-expanded={open}
          aria-activedescendant={open ? `${listId}-${activeIndex}` : undefined}
          role="combobox"
          data-testid="composer"
          onChange={(e) => {
            setText(e.target.value);
            setCaret(e.target.selectionStart);
            setActive(0);
          }}
          onSelect={(e) => setCaret(e.currentTarget.selectionStart)}
          onKeyDown={onKeyDown}
        />
        <span id={hintId} className="visually-hidden">
          {t('composer.hint')}
        </span>
        {mode.kind !== 'edit' && !text.trim() && (
          <button type="button" className="icon-button composer-mic" aria-label={t('media.voice.record')} onClick={() => setCapture('voice')} disabled={media.busy}>
            <Mic size={22} aria-hidden="true" />
          </button>
        )}
        <button type="submit" className="send-button" disabled={!text.trim()} aria-label={mode.kind === 'edit' ? t('composer.save') : t('composer.send')}>
          <SendHorizontal size={20} aria-hidden="true" />
        </button>
      </form>
      )}
    </div>
  );
}

function ContextBar({ mode, name, onCancel }: { mode: Exclude<ComposerMode, { kind: 'new' }>; name: string; onCancel: () => void }) {
  const { t } = useI18n();
  return (
    <div className="composer-context">
      {mode.kind === 'reply' ? <Reply size={16} aria-hidden="true" /> : <Pencil size={16} aria-hidden="true" />}
      <div className="composer-context-text">
        <strong>{mode.kind === 'reply' ? t('chat.replyingTo', { name }) : t('chat.editing')}</strong>
        <span>{toPlainText(mode.message.text)}</span>
      </div>
      <button type="button" className="icon-button icon-button-small" aria-label={t('chat.cancel')} onClick={onCancel}>
        <X size={16} aria-hidden="true" />
      </button>
    </div>
  );
}

interface MentionListProps {
  id: string;
  suggestions: Candidate[];
  activeIndex: number;
  onPick: (c: Candidate) => void;
}

/** The autocomplete listbox; the textarea keeps focus and points at the active option. */
function MentionList({ id, suggestions, activeIndex, onPick }: MentionListProps) {
  const { t } = useI18n();
  return (
    <ul className="mention-list" role="listbox" id={id} aria-label={t('composer.mentions')}>
      {suggestions.map((c, i) => (
        <li
          key={c.userId}
          id={`${id}-${i}`}
          role="option"
          aria-selected={i === activeIndex}
          className="mention-option"
          onMouseDown={(e) => {
            e.preventDefault();
            onPick(c);
          }}
        >
          {c.userId === 'all' ? (
            <>
              <span className="mention-all" aria-hidden="true">
                @
              </span>
              <span>
                @all <small>{t('composer.mentionAll')}</small>
              </span>
            </>
          ) : (
            <>
              <Avatar id={c.userId} name={c.name} size="xs" />
              <span>{c.name}</span>
            </>
          )}
        </li>
      ))}
    </ul>
  );
}
