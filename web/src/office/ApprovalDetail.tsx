// One approval: its answers, its flow drawn as steps, and what the viewer may do with it.
import { useQueryClient } from '@tanstack/react-query';
import { Check, Circle, CircleDot, Minus, X } from 'lucide-react';
import { useState } from 'react';
import type { Media } from '../api/types';
import { useSession } from '../app/context';
import { useNames } from '../app/orgs';
import { useI18n, type Translate } from '../i18n';
import { MediaViewer } from '../media/MediaViewer';
import { useMediaUrl } from '../media/useMediaUrl';
import { formatTime } from '../ui/format';
import { officeApi, type Approval, type ApprovalStep, type FormField } from './api';
import { officeError, officeKeys } from './hooks';

export function statusLabel(t: Translate, status: string): string {
  return t(`office.status.${status}` as Parameters<Translate>[0]);
}

/** The approver entries of the current step that wait for this user. */
export function myTurn(approval: Approval, userId: string): boolean {
  if (approval.status !== 'pending' || approval.current_step == null) return false;
  const step = approval.steps.find((s) => s.position === approval.current_step);
  return !!step && step.status === 'pending' && step.approvers.some((a) => a.user_id === userId && a.decision == null);
}

export function ApprovalDetail({ approval }: { approval: Approval }) {
  const { t, locale } = useI18n();
  const names = useNames(approval.org_id);
  const name = (id: string) => names.get(id) ?? id;
  return (
    <article className="approval-detail" data-testid="approval-detail" aria-label={approval.template_name}>
      <header className="approval-head">
        <div>
          {approval.summary && approval.summary !== approval.template_name && <h3>{approval.summary}</h3>}
          <p className="muted small">
            {t('office.submittedBy', { name: name(approval.submitter_id) })} · {formatTime(approval.created_at, locale)}
            {approval.round > 1 && ` · ${t('office.round', { round: approval.round })}`}
          </p>
        </div>
        <span className={`approval-status approval-${approval.status}`} data-testid="approval-status">
          {statusLabel(t, approval.status)}
        </span>
      </header>
      <dl className="approval-values">
        {(approval.fields as FormField[]).map((field) => (
          <div key={field.key}>
            <dt>{field.label}</dt>
            <dd>
              {field.type === 'attachment' && Array.isArray(approval.values[field.key]) ? (
                <Attachments ids={approval.values[field.key] as string[]} />
              ) : (
                formatAnswer(approval.values[field.key], field, name)
              )}
            </dd>
          </div>
        ))}
        {typeof approval.computed.working_days === 'number' && (
          <div>
            <dt>{t('office.workingDaysLabel')}</dt>
            <dd>{String(approval.computed.working_days)}</dd>
          </div>
        )}
        {approval.computed.total != null && (
          <div>
            <dt>{t('office.totalLabel')}</dt>
            <dd>{String(approval.computed.total)}</dd>
          </div>
        )}
      </dl>
      <h4>{t('office.flow')}</h4>
      <FlowSteps steps={approval.steps} current={approval.current_step ?? null} name={name} />
      {approval.cc_ids.length > 0 && <p className="muted small">{t('office.cc', { names: approval.cc_ids.map(name).join(', ') })}</p>}
      <ApprovalActions approval={approval} />
    </article>
  );
}

function formatAnswer(value: unknown, field: FormField, name: (id: string) => string): string {
  if (value == null || value === '') return '—';
  switch (field.type) {
    case 'date_range': {
      const range = value as { from: string; to: string };
      return `${range.from} → ${range.to}`;
    }
    case 'employee':
      return (value as string[]).map(name).join(', ');
    case 'multi_select':
      return (value as string[]).join(', ');
    case 'attachment':
      return `${(value as string[]).length} 📎`;
    case 'line_items':
      return (value as { description: string; amount: string }[]).map((i) => `${i.description} ${i.amount}`).join(' · ');
    default:
      return String(value);
  }
}

/** Attached photos as thumbnails; one opens full screen. The approval holds them, so the
 * server serves them to everyone who may see it. */
function Attachments({ ids }: { ids: string[] }) {
  const { t } = useI18n();
  const [open, setOpen] = useState<string | null>(null);
  // The viewer needs only the id to load the file; the size is shown from the file itself.
  const image: Media | null = open
    ? { id: open, kind: 'image', mime: '', size: 0, width: null, height: null, duration_ms: null, waveform: null }
    : null;
  return (
    <span className="approval-attachments" data-testid="approval-attachments">
      {ids.map((id) => (
        <button key={id} type="button" className="media-open" onClick={() => setOpen(id)} aria-label={t('media.openPhoto')}>
          <AttachmentThumb id={id} />
        </button>
      ))}
      {image && <MediaViewer image={image} voice={null} caption="" onClose={() => setOpen(null)} />}
    </span>
  );
}

function AttachmentThumb({ id }: { id: string }) {
  const { t } = useI18n();
  const { data, isError } = useMediaUrl(id, true);
  if (isError) return <span className="muted small">{t('chat.mediaFailed')}</span>;
  return data ? (
    <img className="approval-attachment" src={data} alt={t('chat.photo')} />
  ) : (
    <span className="approval-attachment media-loading" aria-label={t('common.loading')} />
  );
}

const STEP_ICONS = { approved: Check, rejected: X, pending: CircleDot, waiting: Circle, skipped: Minus, cancelled: Minus };

export function FlowSteps({ steps, current, name }: { steps: ApprovalStep[]; current: number | null; name: (id: string) => string }) {
  const { t } = useI18n();
  return (
    <ol className="flow-steps" data-testid="flow-steps">
      {steps.map((step) => {
        const Icon = STEP_ICONS[step.status];
        return (
          <li key={step.position} className={`flow-step flow-${step.status}${step.position === current ? ' flow-current' : ''}`} data-testid="flow-step">
            <span className="flow-icon" aria-hidden="true">
              <Icon size={14} />
            </span>
            <div>
              <strong>{step.name}</strong> <span className="muted small">· {t(`office.step.${step.status}`)}</span>
              <p className="muted small">
                {step.mode === 'all' ? t('office.step.modeAll') : t('office.step.modeAny')}
                {step.fallback && ` · ${t('office.step.fallback')}`}
              </p>
              <ul className="flow-approvers">
                {step.approvers.map((a) => (
                  <li key={a.user_id}>
                    {name(a.user_id)}
                    {a.decision && ` — ${t(`office.step.${a.decision}`)}`}
                    {a.comment && <q>{a.comment}</q>}
                  </li>
                ))}
              </ul>
            </div>
          </li>
        );
      })}
    </ol>
  );
}

/** Approve / reject for the current approver; withdraw / resubmit for the submitter. */
export function ApprovalActions({ approval, compact }: { approval: Approval; compact?: boolean }) {
  const { t } = useI18n();
  const session = useSession();
  const queryClient = useQueryClient();
  const [comment, setComment] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [rejecting, setRejecting] = useState(false);
  const me = session.me.id;
  const mine = approval.submitter_id === me;
  const turn = myTurn(approval, me);
  const undecided = approval.steps.every((s) => s.approvers.every((a) => a.decision == null));
  const canWithdraw = mine && approval.status === 'pending' && undecided;
  const canResubmit = mine && (approval.status === 'rejected' || approval.status === 'withdrawn');
  if (!turn && !canWithdraw && !canResubmit) return null;
  // On a chat card the comment box appears once the approver starts to reject.
  const showComment = turn && (!compact || rejecting);

  const act = async (call: () => Promise<Approval>) => {
    setBusy(true);
    setError(null);
    try {
      const updated = await call();
      queryClient.setQueryData(officeKeys.approval(updated.id), updated);
      void queryClient.invalidateQueries({ queryKey: officeKeys.approvals(updated.org_id) });
      setComment('');
    } catch (err) {
      setError(officeError(err, t));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="approval-actions">
      {showComment && (
        <label className="field">
          <span>{t('office.comment')}</span>
          <textarea rows={2} maxLength={2000} autoFocus={compact} value={comment} onChange={(e) => setComment(e.target.value)} placeholder={t('office.commentHint')} />
        </label>
      )}
      <div className="button-row">
        {turn && (
          <>
            <button type="button" className="button button-primary button-small" disabled={busy} onClick={() => void act(() => officeApi.approve(approval.id, comment.trim()))}>
              {t('office.approve')}
            </button>
            <button
              type="button"
              className="button button-danger-ghost button-small"
              disabled={busy}
              onClick={() => {
                if (!showComment) {
                  setRejecting(true);
                  return;
                }
                if (!comment.trim()) {
                  setError(t('office.rejectReason'));
                  return;
                }
                void act(() => officeApi.reject(approval.id, comment.trim()));
              }}
            >
              {t('office.reject')}
            </button>
          </>
        )}
        {canWithdraw && (
          <button type="button" className="button button-ghost button-small" disabled={busy} onClick={() => void act(() => officeApi.withdraw(approval.id))}>
            {t('office.withdraw')}
          </button>
        )}
        {canResubmit && (
          <button type="button" className="button button-secondary button-small" disabled={busy} onClick={() => void act(() => officeApi.resubmit(approval.id))}>
            {t('office.resubmit')}
          </button>
        )}
      </div>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
