// Voice conferences in a conversation: the header's call button, and the bar under the header
// (an invitation to join the call going on, or the call you are in: who is in it, who speaks,
// mute, leave, end), and what went wrong with the microphone or the connection.

import { Mic, MicOff, Phone, PhoneOff, X } from 'lucide-react';
import { useEffect } from 'react';
import { useSession } from '../app/context';
import { activeCall, type Call } from '../app/calls';
import { callControllerOf, useCallsView } from '../app/callSession';
import { useI18n } from '../i18n';
import { Avatar } from '../ui/Avatar';

function useCalls() {
  const controller = callControllerOf(useSession());
  return { controller, view: useCallsView(controller) };
}

/** The header button: start a call, or join the one going on. */
export function CallButton({ conversationId }: { conversationId: string }) {
  const { t } = useI18n();
  const { controller, view } = useCalls();
  const call = activeCall(view.calls, conversationId);
  const mine = view.mine;
  const here = mine.phase !== 'idle' && mine.phase !== 'failed' && mine.conversationId === conversationId;
  if (here) return null;
  const label = call ? t('call.joinCall') : t('call.start');
  return (
    <button
      type="button"
      className={`icon-button${call ? ' icon-button-tinted' : ''}`}
      data-testid="call-button"
      onClick={() => void (call ? controller.join(conversationId, call.id) : controller.start(conversationId))}
      aria-label={label}
      title={label}
    >
      <Phone size={22} aria-hidden="true" />
    </button>
  );
}

export function CallBar({ conversationId, names }: { conversationId: string; names: Map<string, string> }) {
  const { t } = useI18n();
  const session = useSession();
  const { controller, view } = useCalls();

  useEffect(() => {
    void controller.refresh(conversationId);
  }, [controller, conversationId]);

  const call = activeCall(view.calls, conversationId);
  const mine = view.mine;
  const mineHere = mine.phase !== 'idle' && mine.conversationId === conversationId;

  if (mine.phase === 'failed' && mineHere) {
    return (
      <div className="call-bar call-bar-problem" role="alert" data-testid="call-problem">
        <p>
          {t(mine.problem.key)}
          {mine.problem.detail ? <span className="call-detail"> {mine.problem.detail}</span> : null}
        </p>
        <button type="button" className="icon-button icon-button-small" onClick={() => controller.dismissProblem()} aria-label={t('call.dismiss')}>
          <X size={18} aria-hidden="true" />
        </button>
      </div>
    );
  }
  if ((mine.phase === 'microphone' || mine.phase === 'connecting') && mineHere) {
    return (
      <div className="call-bar" role="status" data-testid="call-bar">
        <p className="call-title">{mine.phase === 'microphone' ? t('call.microphone') : t('call.connecting')}</p>
        <button type="button" className="call-action call-leave" onClick={() => void controller.leave()}>
          <PhoneOff size={18} aria-hidden="true" /> {t('call.leave')}
        </button>
      </div>
    );
  }
  if (!call) return null;
  const count = call.participants.length;

  if (mine.phase === 'in-call' && mine.callId === call.id) {
    const mayEnd = call.started_by === session.me.id;
    return (
      <section className="call-bar call-bar-live" aria-label={t('call.yourCall', { count })} data-testid="call-bar">
        <p className="call-title">{t('call.yourCall', { count })}</p>
        <Participants call={call} names={names} meId={session.me.id} />
        <div className="call-actions">
          <button
            type="button"
            className={`call-action${mine.muted ? ' call-muted' : ''}`}
            data-testid="call-mute"
            aria-pressed={mine.muted}
            aria-label={mine.muted ? t('call.unmuteMicrophone') : t('call.muteMicrophone')}
            onClick={() => void controller.setMuted(!mine.muted)}
          >
            {mine.muted ? <MicOff size={18} aria-hidden="true" /> : <Mic size={18} aria-hidden="true" />}
            {mine.muted ? t('call.unmute') : t('call.mute')}
          </button>
          <button type="button" className="call-action call-leave" data-testid="call-leave" aria-label={t('call.leaveCall')} onClick={() => void controller.leave()}>
            <PhoneOff size={18} aria-hidden="true" /> {t('call.leave')}
          </button>
          {mayEnd && count > 1 && (
            <button type="button" className="call-action call-end" aria-label={t('call.endCall')} onClick={() => void controller.end(conversationId, call.id)}>
              {t('call.end')}
            </button>
          )}
        </div>
      </section>
    );
  }

  const elsewhere = mine.phase === 'in-call' || mine.phase === 'connecting';
  return (
    <section className="call-bar call-bar-invite" aria-label={t('call.inProgress')} data-testid="call-banner">
      <p className="call-title">
        <Phone size={16} aria-hidden="true" /> {t('call.inProgressCount', { count })}
      </p>
      <Participants call={call} names={names} meId={session.me.id} />
      {elsewhere ? (
        <p className="muted call-detail">{t('call.elsewhere')}</p>
      ) : (
        <button type="button" className="call-action call-join" data-testid="call-join" onClick={() => void controller.join(conversationId, call.id)}>
          <Phone size={18} aria-hidden="true" /> {t('call.join')}
        </button>
      )}
    </section>
  );
}

function Participants({ call, names, meId }: { call: Call; names: Map<string, string>; meId: string }) {
  const { t } = useI18n();
  return (
    <ul className="call-participants" aria-label={t('call.participants')}>
      {call.participants.map((p) => {
        const name = p.user_id === meId ? t('call.you') : (names.get(p.user_id) ?? '…');
        const state = p.muted ? t('call.muted') : p.speaking ? t('call.speaking') : '';
        return (
          <li
            key={p.user_id}
            className={`call-participant${p.speaking ? ' is-speaking' : ''}${p.muted ? ' is-muted' : ''}`}
            data-testid="call-participant"
            data-speaking={p.speaking ? 'true' : 'false'}
            title={state ? `${name} · ${state}` : name}
          >
            <Avatar id={p.user_id} name={names.get(p.user_id) ?? name} size="sm" />
            <span className="call-name">{name}</span>
            {p.muted && <MicOff size={14} aria-label={t('call.muted')} />}
            {!p.muted && p.speaking && <span className="visually-hidden">{t('call.speaking')}</span>}
          </li>
        );
      })}
    </ul>
  );
}
