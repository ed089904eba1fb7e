// Fills in a template's form and submits it; the server routes it through the flow.
import { useQueryClient } from '@tanstack/react-query';
import { Paperclip, Plus, Trash2 } from 'lucide-react';
import { useId, useState } from 'react';
import { api } from '../api/endpoints';
import { useOrgMembers } from '../app/orgs';
import { useI18n } from '../i18n';
import { newClientMsgId } from '../state/outbox';
import { officeApi, type Approval, type FormField, type Template } from './api';
import { answerProblem, emptyAnswers, lineItemsTotal, toValues, workingDays, type Answer, type Answers, type DateRange, type LineItem } from './form';
import { officeError, officeKeys } from './hooks';

interface Props {
  template: Template;
  onSubmitted: (approval: Approval) => void;
}

export function ApprovalForm({ template, onSubmitted }: Props) {
  const { t } = useI18n();
  const queryClient = useQueryClient();
  const fields = template.fields as FormField[];
  const [answers, setAnswers] = useState<Answers>(() => emptyAnswers(fields));
  const [summary, setSummary] = useState('');
  const [touched, setTouched] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  // One id per filled-in form: a retry after a lost answer does not submit twice.
  const [requestId] = useState(newClientMsgId);
  const problems = Object.fromEntries(fields.map((f) => [f.key, answerProblem(f, answers[f.key])]));
  const set = (key: string, answer: Answer) => setAnswers((a) => ({ ...a, [key]: answer }));

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setTouched(true);
    if (Object.values(problems).some(Boolean)) return;
    setBusy(true);
    setError(null);
    try {
      const approval = await officeApi.submit(template.org_id, {
        template_id: template.id,
        client_request_id: requestId,
        values: toValues(fields, answers),
        summary: summary.trim() || null,
      });
      queryClient.setQueryData(officeKeys.approval(approval.id), approval);
      void queryClient.invalidateQueries({ queryKey: officeKeys.approvals(template.org_id) });
      onSubmitted(approval);
    } catch (err) {
      setError(officeError(err, t));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="stack approval-form" onSubmit={submit} noValidate aria-label={template.name}>
      {fields.map((field) => (
        <FieldInput
          key={field.key}
          field={field}
          orgId={template.org_id}
          answer={answers[field.key]!}
          problem={touched ? (problems[field.key] ?? null) : null}
          onChange={(a) => set(field.key, a)}
        />
      ))}
      <label className="field">
        <span>{t('office.summary')}</span>
        <input value={summary} maxLength={200} onChange={(e) => setSummary(e.target.value)} />
      </label>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      <button type="submit" className="button button-primary button-block" disabled={busy}>
        {t('office.submit')}
      </button>
    </form>
  );
}

interface FieldProps {
  field: FormField;
  orgId: string;
  answer: Answer;
  problem: string | null;
  onChange: (answer: Answer) => void;
}

function FieldInput({ field, orgId, answer, problem, onChange }: FieldProps) {
  const { t } = useI18n();
  const id = useId();
  const label = `${field.label}${field.required ? ' *' : ''}`;
  const describedBy = problem ? `${id}-problem` : undefined;
  let control: React.ReactNode;
  switch (field.type) {
    case 'long_text':
      control = <textarea id={id} rows={3} value={answer as string} aria-describedby={describedBy} onChange={(e) => onChange(e.target.value)} />;
      break;
    case 'number':
    case 'money':
      control = <input id={id} inputMode="decimal" value={answer as string} aria-describedby={describedBy} onChange={(e) => onChange(e.target.value)} />;
      break;
    case 'date':
      control = <input id={id} type="date" value={answer as string} aria-describedby={describedBy} onChange={(e) => onChange(e.target.value)} />;
      break;
    case 'date_range':
      control = <DateRangeInput id={id} range={answer as DateRange} onChange={onChange} />;
      break;
    case 'single_select':
      control = (
        <select id={id} value={answer as string} aria-describedby={describedBy} onChange={(e) => onChange(e.target.value)}>
          <option value="">—</option>
          {(field.options ?? []).map((o) => (
            <option key={o}>{o}</option>
          ))}
        </select>
      );
      break;
    case 'multi_select':
      control = <Choices options={(field.options ?? []).map((o) => [o, o])} chosen={answer as string[]} onChange={onChange} />;
      break;
    case 'employee':
      control = <EmployeePicker orgId={orgId} chosen={answer as string[]} onChange={onChange} />;
      break;
    case 'attachment':
      control = <Attachments ids={answer as string[]} onChange={onChange} />;
      break;
    case 'line_items':
      control = <LineItems items={answer as LineItem[]} onChange={onChange} />;
      break;
    default:
      control = <input id={id} value={answer as string} aria-describedby={describedBy} onChange={(e) => onChange(e.target.value)} />;
  }
  const grouped = ['date_range', 'multi_select', 'employee', 'attachment', 'line_items'].includes(field.type);
  return (
    <div className="field">
      {grouped ? <span id={id}>{label}</span> : <label htmlFor={id}>{label}</label>}
      {control}
      {field.help && <small className="muted">{field.help}</small>}
      {problem && (
        <small id={`${id}-problem`} className="form-error" role="alert">
          {t(`office.problem.${problem}` as 'office.problem.required')}
        </small>
      )}
    </div>
  );
}

function DateRangeInput({ id, range, onChange }: { id: string; range: DateRange; onChange: (r: DateRange) => void }) {
  const { t } = useI18n();
  const days = workingDays(range.from, range.to);
  return (
    <div className="input-row" role="group" aria-labelledby={id}>
      <label>
        <span className="small muted">{t('office.from')}</span>
        <input type="date" value={range.from} onChange={(e) => onChange({ ...range, from: e.target.value })} />
      </label>
      <label>
        <span className="small muted">{t('office.to')}</span>
        <input type="date" value={range.to} onChange={(e) => onChange({ ...range, to: e.target.value })} />
      </label>
      {days > 0 && <span className="chip" data-testid="working-days">{t('office.workingDays', { count: days })}</span>}
    </div>
  );
}

function Choices({ options, chosen, onChange }: { options: [string, string][]; chosen: string[]; onChange: (v: string[]) => void }) {
  return (
    <div className="choice-list">
      {options.map(([value, label]) => (
        <label key={value} className="office-check">
          <input
            type="checkbox"
            checked={chosen.includes(value)}
            onChange={(e) => onChange(e.target.checked ? [...chosen, value] : chosen.filter((c) => c !== value))}
          />
          {label}
        </label>
      ))}
    </div>
  );
}

function EmployeePicker({ orgId, chosen, onChange }: { orgId: string; chosen: string[]; onChange: (v: string[]) => void }) {
  const { data: members = [] } = useOrgMembers(orgId);
  return <Choices options={members.map((m) => [m.user_id, m.display_name])} chosen={chosen} onChange={onChange} />;
}

function Attachments({ ids, onChange }: { ids: string[]; onChange: (v: string[]) => void }) {
  const { t } = useI18n();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const add = async (files: FileList | null) => {
    if (!files) return;
    setBusy(true);
    setError(null);
    try {
      const uploaded: string[] = [];
      for (const file of Array.from(files)) uploaded.push((await api.uploadMedia(file, file.name)).id);
      onChange([...ids, ...uploaded]);
    } catch (err) {
      setError(officeError(err, t));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="input-row">
      <label className="button button-secondary button-small">
        <Paperclip size={16} aria-hidden="true" /> {t('office.attach')}
        <input type="file" accept="image/*" multiple hidden disabled={busy} onChange={(e) => void add(e.target.files)} />
      </label>
      {ids.length > 0 && <span className="chip">{t('office.attached', { count: ids.length })}</span>}
      {error && <small className="form-error">{error}</small>}
    </div>
  );
}

function LineItems({ items, onChange }: { items: LineItem[]; onChange: (v: LineItem[]) => void }) {
  const { t } = useI18n();
  const update = (i: number, item: LineItem) => onChange(items.map((old, j) => (j === i ? item : old)));
  return (
    <div className="stack">
      {items.map((item, i) => (
        <div className="input-row" key={i}>
          <input aria-label={t('office.itemDescription')} placeholder={t('office.itemDescription')} value={item.description} onChange={(e) => update(i, { ...item, description: e.target.value })} />
          <input aria-label={t('office.itemAmount')} placeholder="0.00" inputMode="decimal" value={item.amount} onChange={(e) => update(i, { ...item, amount: e.target.value })} />
          <button type="button" className="icon-button" aria-label={t('office.tpl.remove')} onClick={() => onChange(items.filter((_, j) => j !== i))}>
            <Trash2 size={16} aria-hidden="true" />
          </button>
        </div>
      ))}
      <div className="input-row">
        <button type="button" className="button button-ghost button-small" onClick={() => onChange([...items, { description: '', amount: '' }])}>
          <Plus size={16} aria-hidden="true" /> {t('office.addItem')}
        </button>
        <span className="chip">{t('office.total', { amount: lineItemsTotal(items) })}</span>
      </div>
    </div>
  );
}
