// Admins shape a form and its flow. Saving an existing template makes a new version; approvals
// already submitted keep the version they were submitted on.
import { useQueryClient } from '@tanstack/react-query';
import { Plus, Trash2 } from 'lucide-react';
import { useState } from 'react';
import { useOrgMembers } from '../app/orgs';
import { useI18n } from '../i18n';
import { officeApi, type ApproverSpec, type FlowStep, type FormField, type Template, type TemplateIn } from './api';
import { FIELD_TYPES, newField } from './form';
import { officeError, officeKeys } from './hooks';

interface Props {
  orgId: string;
  template: Template | null;
  onSaved: () => void;
}

const NEW_STEP: FlowStep = { name: '', approvers: { kind: 'dept_head', levels: 1, role: null, user_ids: [] }, mode: 'any', condition: null };

export function TemplateEditor({ orgId, template, onSaved }: Props) {
  const { t } = useI18n();
  const queryClient = useQueryClient();
  const [draft, setDraft] = useState<TemplateIn>(() =>
    template
      ? { name: template.name, icon: template.icon, fields: template.fields as FormField[], flow: template.flow }
      : { name: '', icon: null, fields: [{ ...newField([]), label: '' }], flow: { steps: [{ ...NEW_STEP }], cc: [] } },
  );
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const fields = draft.fields as FormField[];
  const steps = draft.flow.steps;
  const setFields = (next: FormField[]) => setDraft((d) => ({ ...d, fields: next }));
  const setSteps = (next: FlowStep[]) => setDraft((d) => ({ ...d, flow: { ...d.flow, steps: next } }));

  const save = async (e: React.FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (template) await officeApi.updateTemplate(template.id, draft);
      else await officeApi.createTemplate(orgId, draft);
      await queryClient.invalidateQueries({ queryKey: officeKeys.templates(orgId) });
      onSaved();
    } catch (err) {
      setError(officeError(err, t));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="stack template-editor" onSubmit={save} aria-label={t('office.newTemplate')}>
      <label className="field">
        <span>{t('office.tpl.name')}</span>
        <input required maxLength={100} value={draft.name} onChange={(e) => setDraft({ ...draft, name: e.target.value })} />
      </label>
      <fieldset className="stack">
        <legend>{t('office.tpl.fields')}</legend>
        {fields.map((field, i) => (
          <FieldEditor
            key={i}
            field={field}
            onChange={(f) => setFields(fields.map((old, j) => (j === i ? f : old)))}
            onRemove={fields.length > 1 ? () => setFields(fields.filter((_, j) => j !== i)) : undefined}
          />
        ))}
        <button type="button" className="button button-ghost button-small" onClick={() => setFields([...fields, newField(fields.map((f) => f.key))])}>
          <Plus size={16} aria-hidden="true" /> {t('office.tpl.addField')}
        </button>
      </fieldset>
      <fieldset className="stack">
        <legend>{t('office.tpl.steps')}</legend>
        {steps.map((step, i) => (
          <StepEditor
            key={i}
            orgId={orgId}
            step={step}
            onChange={(s) => setSteps(steps.map((old, j) => (j === i ? s : old)))}
            onRemove={steps.length > 1 ? () => setSteps(steps.filter((_, j) => j !== i)) : undefined}
          />
        ))}
        <button type="button" className="button button-ghost button-small" onClick={() => setSteps([...steps, { ...NEW_STEP }])}>
          <Plus size={16} aria-hidden="true" /> {t('office.tpl.addStep')}
        </button>
      </fieldset>
      {template && <p className="muted small">{t('office.tpl.versionNote', { version: template.version + 1 })}</p>}
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      <button type="submit" className="button button-primary" disabled={busy}>
        {t('office.tpl.save')}
      </button>
    </form>
  );
}

function FieldEditor({ field, onChange, onRemove }: { field: FormField; onChange: (f: FormField) => void; onRemove?: () => void }) {
  const { t } = useI18n();
  const choice = field.type === 'single_select' || field.type === 'multi_select';
  return (
    <div className="card stack editor-row" data-testid="field-editor">
      <div className="input-row">
        <label className="field">
          <span>{t('office.tpl.label')}</span>
          <input required maxLength={100} value={field.label} onChange={(e) => onChange({ ...field, label: e.target.value })} />
        </label>
        <label className="field">
          <span>{t('office.tpl.type')}</span>
          <select value={field.type} onChange={(e) => onChange({ ...field, type: e.target.value as FormField['type'] })}>
            {FIELD_TYPES.map((type) => (
              <option key={type} value={type}>
                {t(`office.type.${type}`)}
              </option>
            ))}
          </select>
        </label>
      </div>
      <div className="input-row">
        <label className="field">
          <span>{t('office.tpl.key')}</span>
          <input required pattern="[a-z][a-z0-9_]{0,39}" value={field.key} onChange={(e) => onChange({ ...field, key: e.target.value })} />
        </label>
        <label className="office-check">
          <input type="checkbox" checked={field.required} onChange={(e) => onChange({ ...field, required: e.target.checked })} /> {t('office.tpl.required')}
        </label>
        {onRemove && (
          <button type="button" className="icon-button" aria-label={t('office.tpl.remove')} onClick={onRemove}>
            <Trash2 size={16} aria-hidden="true" />
          </button>
        )}
      </div>
      {choice && (
        <label className="field">
          <span>{t('office.tpl.options')}</span>
          <textarea
            rows={3}
            value={(field.options ?? []).join('\n')}
            onChange={(e) => onChange({ ...field, options: e.target.value.split('\n').map((o) => o.trim()).filter(Boolean) })}
          />
        </label>
      )}
    </div>
  );
}

function StepEditor({ orgId, step, onChange, onRemove }: { orgId: string; step: FlowStep; onChange: (s: FlowStep) => void; onRemove?: () => void }) {
  const { t } = useI18n();
  const { data: members = [] } = useOrgMembers(orgId);
  const approvers = step.approvers;
  const setApprovers = (a: Partial<ApproverSpec>) => onChange({ ...step, approvers: { ...approvers, ...a } });
  return (
    <div className="card stack editor-row" data-testid="step-editor">
      <div className="input-row">
        <label className="field">
          <span>{t('office.tpl.stepName')}</span>
          <input required maxLength={100} value={step.name} onChange={(e) => onChange({ ...step, name: e.target.value })} />
        </label>
        <label className="field">
          <span>{t('office.tpl.mode')}</span>
          <select value={step.mode} onChange={(e) => onChange({ ...step, mode: e.target.value as FlowStep['mode'] })}>
            <option value="any">{t('office.step.modeAny')}</option>
            <option value="all">{t('office.step.modeAll')}</option>
          </select>
        </label>
        {onRemove && (
          <button type="button" className="icon-button" aria-label={t('office.tpl.remove')} onClick={onRemove}>
            <Trash2 size={16} aria-hidden="true" />
          </button>
        )}
      </div>
      <div className="input-row">
        <label className="field">
          <span>{t('office.tpl.approvers')}</span>
          <select value={approvers.kind} onChange={(e) => setApprovers({ kind: e.target.value as ApproverSpec['kind'] })}>
            <option value="dept_head">{t('office.tpl.deptHead')}</option>
            <option value="role">{t('office.tpl.role')}</option>
            <option value="users">{t('office.tpl.users')}</option>
          </select>
        </label>
        {approvers.kind === 'dept_head' && (
          <input aria-label={t('office.tpl.deptHead')} type="number" min={1} max={10} value={approvers.levels ?? 1} onChange={(e) => setApprovers({ levels: Number(e.target.value) })} />
        )}
        {approvers.kind === 'role' && (
          <input aria-label={t('office.tpl.role')} pattern="[a-z0-9][a-z0-9_\-]*" value={approvers.role ?? ''} onChange={(e) => setApprovers({ role: e.target.value })} />
        )}
      </div>
      {approvers.kind === 'users' && (
        <select
          multiple
          aria-label={t('office.tpl.users')}
          value={approvers.user_ids ?? []}
          onChange={(e) => setApprovers({ user_ids: Array.from(e.target.selectedOptions, (o) => o.value) })}
        >
          {members.map((m) => (
            <option key={m.user_id} value={m.user_id}>
              {m.display_name}
            </option>
          ))}
        </select>
      )}
    </div>
  );
}
