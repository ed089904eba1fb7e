// The office: approval inboxes, new requests from the team's templates, the template editor for
// admins, and the DINGs sent and received.
import { ClipboardCheck, Pencil, Plus } from 'lucide-react';
import { useState } from 'react';
import type { Org } from '../api/types';
import { isAdmin, useNames } from '../app/orgs';
import { useI18n } from '../i18n';
import { Dialog } from '../ui/Dialog';
import { formatTime } from '../ui/format';
import type { Approval, ApprovalBox, Template } from './api';
import { ApprovalDetail, statusLabel } from './ApprovalDetail';
import { ApprovalForm } from './ApprovalForm';
import { DingList } from './DingList';
import { useApproval, useApprovals, useTemplates } from './hooks';
import { TemplateEditor } from './TemplateEditor';

type Tab = ApprovalBox | 'dings';
const TABS: Tab[] = ['to_approve', 'submitted', 'cc', 'dings'];

export function OfficeScreen({ org }: { org: Org }) {
  const { t } = useI18n();
  const [tab, setTab] = useState<Tab>('to_approve');
  const [picking, setPicking] = useState(false);
  const [filling, setFilling] = useState<Template | null>(null);
  const [editing, setEditing] = useState<Template | 'new' | null>(null);
  const [openId, setOpenId] = useState<string | null>(null);
  const admin = isAdmin(org);
  return (
    <div className="page office">
      <header className="page-header">
        <h1>{t('office.title')}</h1>
        <button type="button" className="button button-primary button-small" onClick={() => setPicking(true)}>
          <Plus size={16} aria-hidden="true" /> {t('office.new')}
        </button>
      </header>
      <div className="segmented" role="radiogroup" aria-label={t('office.title')}>
        {TABS.map((id) => (
          <button key={id} type="button" role="radio" aria-checked={tab === id} onClick={() => setTab(id)}>
            {id === 'dings' ? t('ding.list') : t(`office.box.${id}`)}
          </button>
        ))}
      </div>
      {tab === 'dings' ? <DingList orgId={org.id} /> : <ApprovalList orgId={org.id} box={tab} onOpen={setOpenId} />}
      {admin && <TemplateAdmin orgId={org.id} onEdit={setEditing} />}

      {picking && (
        <Dialog title={t('office.pickTemplate')} onClose={() => setPicking(false)}>
          <TemplatePicker
            orgId={org.id}
            onPick={(template) => {
              setPicking(false);
              setFilling(template);
            }}
          />
        </Dialog>
      )}
      {filling && (
        <Dialog title={filling.name} onClose={() => setFilling(null)} wide>
          <ApprovalForm
            template={filling}
            onSubmitted={(approval) => {
              setFilling(null);
              setTab('submitted');
              setOpenId(approval.id);
            }}
          />
        </Dialog>
      )}
      {editing && (
        <Dialog title={editing === 'new' ? t('office.newTemplate') : editing.name} onClose={() => setEditing(null)} wide>
          <TemplateEditor orgId={org.id} template={editing === 'new' ? null : editing} onSaved={() => setEditing(null)} />
        </Dialog>
      )}
      {openId && <ApprovalDialog id={openId} onClose={() => setOpenId(null)} />}
    </div>
  );
}

function ApprovalList({ orgId, box, onOpen }: { orgId: string; box: ApprovalBox; onOpen: (id: string) => void }) {
  const { t } = useI18n();
  const { data: items = [], isLoading } = useApprovals(orgId, box);
  if (!isLoading && items.length === 0) return <p className="muted">{t('office.box.empty')}</p>;
  return (
    <ul className="office-list" data-testid={`approvals-${box}`}>
      {items.map((a) => (
        <ApprovalRow key={a.id} approval={a} onOpen={() => onOpen(a.id)} />
      ))}
    </ul>
  );
}

function ApprovalRow({ approval, onOpen }: { approval: Approval; onOpen: () => void }) {
  const { t, locale } = useI18n();
  const names = useNames(approval.org_id);
  return (
    <li>
      <button type="button" className="card office-row" onClick={onOpen} data-testid="approval-row">
        <ClipboardCheck size={20} aria-hidden="true" />
        <span className="office-row-main">
          <strong>{approval.summary || approval.template_name}</strong>
          <span className="muted small">
            {t('office.submittedBy', { name: names.get(approval.submitter_id) ?? '…' })} · {formatTime(approval.created_at, locale)}
          </span>
        </span>
        <span className={`approval-status approval-${approval.status}`}>{statusLabel(t, approval.status)}</span>
      </button>
    </li>
  );
}

function ApprovalDialog({ id, onClose }: { id: string; onClose: () => void }) {
  const { t } = useI18n();
  const { data: approval, isError } = useApproval(id);
  return (
    <Dialog title={approval?.template_name ?? t('office.title')} onClose={onClose} wide>
      {approval ? <ApprovalDetail approval={approval} /> : <p className="muted">{isError ? t('error.not_found') : t('common.loading')}</p>}
    </Dialog>
  );
}

function TemplatePicker({ orgId, onPick }: { orgId: string; onPick: (t: Template) => void }) {
  const { data: templates = [] } = useTemplates(orgId);
  return (
    <ul className="picker-list">
      {templates.map((template) => (
        <li key={template.id}>
          <button type="button" className="picker-item" onClick={() => onPick(template)}>
            <ClipboardCheck size={18} aria-hidden="true" /> <span className="picker-name">{template.name}</span>
          </button>
        </li>
      ))}
    </ul>
  );
}

function TemplateAdmin({ orgId, onEdit }: { orgId: string; onEdit: (t: Template | 'new') => void }) {
  const { t } = useI18n();
  const { data: templates = [] } = useTemplates(orgId);
  return (
    <section className="card stack" aria-labelledby="office-templates">
      <div className="card-head">
        <h2 id="office-templates">{t('office.templates')}</h2>
        <button type="button" className="button button-ghost button-small" onClick={() => onEdit('new')}>
          <Plus size={16} aria-hidden="true" /> {t('office.newTemplate')}
        </button>
      </div>
      <ul className="office-list">
        {templates.map((template) => (
          <li key={template.id} className="card-row">
            <span>
              {template.name} <span className="muted small">v{template.version}</span>
            </span>
            <button type="button" className="button button-ghost button-small" onClick={() => onEdit(template)} aria-label={`${t('office.editTemplate')} ${template.name}`}>
              <Pencil size={14} aria-hidden="true" /> {t('office.editTemplate')}
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
