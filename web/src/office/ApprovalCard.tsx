// An approval as a card in chat: it follows the approval live (approval.updated), and the
// current approver can decide from it. People outside the flow see only the summary.
import { ClipboardCheck } from 'lucide-react';
import { useState } from 'react';
import type { Message } from '../api/types';
import { useI18n } from '../i18n';
import { Dialog } from '../ui/Dialog';
import { ApprovalActions, ApprovalDetail, statusLabel } from './ApprovalDetail';
import { useApproval } from './hooks';

export function ApprovalCard({ message }: { message: Message }) {
  const { t } = useI18n();
  const { data: approval, isError } = useApproval(message.approval_id);
  const [open, setOpen] = useState(false);
  const current = approval?.steps.find((s) => s.position === approval.current_step);
  return (
    <div className="approval-card" data-testid="approval-card">
      <div className="approval-card-head">
        <ClipboardCheck size={18} aria-hidden="true" />
        <strong>{approval?.template_name ?? message.text}</strong>
        {approval && (
          <span className={`approval-status approval-${approval.status}`} data-testid="approval-status">
            {statusLabel(t, approval.status)}
          </span>
        )}
      </div>
      {message.text !== approval?.template_name && <p className="approval-card-summary">{message.text}</p>}
      {isError && <p className="muted small">{t('office.cardHidden')}</p>}
      {approval && (
        <>
          {current && (
            <p className="muted small">
              {current.name} · {t(`office.step.${current.status}`)}
            </p>
          )}
          <ApprovalActions approval={approval} compact />
          <button type="button" className="link-button" onClick={() => setOpen(true)}>
            {t('office.open')}
          </button>
          {open && (
            <Dialog title={approval.template_name} onClose={() => setOpen(false)} wide>
              <ApprovalDetail approval={approval} />
            </Dialog>
          )}
        </>
      )}
    </div>
  );
}
