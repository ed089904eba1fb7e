// The logic of approval forms, apart from React: what an empty answer is, what the client can
// check before sending (the server checks everything again), and how answers are sent.
import type { FormField } from './api';

export interface DateRange {
  from: string;
  to: string;
}
export interface LineItem {
  description: string;
  amount: string;
}
export type Answer = string | string[] | DateRange | LineItem[];
export type Answers = Record<string, Answer>;

export function emptyAnswer(field: FormField): Answer {
  switch (field.type) {
    case 'multi_select':
    case 'employee':
    case 'attachment':
      return [];
    case 'date_range':
      return { from: '', to: '' };
    case 'line_items':
      return [{ description: '', amount: '' }];
    default:
      return '';
  }
}

export function emptyAnswers(fields: FormField[]): Answers {
  return Object.fromEntries(fields.map((f) => [f.key, emptyAnswer(f)]));
}

function isBlank(field: FormField, answer: Answer | undefined): boolean {
  if (answer === undefined) return true;
  if (typeof answer === 'string') return answer.trim() === '';
  if (field.type === 'date_range') return !(answer as DateRange).from || !(answer as DateRange).to;
  if (field.type === 'line_items') return (answer as LineItem[]).every((i) => !i.description.trim() && !i.amount.trim());
  return (answer as string[]).length === 0;
}

const MONEY = /^-?\d+(\.\d{1,2})?$/;

/** The first problem with one answer, as a message key, or null. */
export function answerProblem(field: FormField, answer: Answer | undefined): 'required' | 'number' | 'money' | 'range' | 'order' | null {
  if (isBlank(field, answer)) return field.required ? 'required' : null;
  if (field.type === 'number' || field.type === 'money') {
    const text = (answer as string).trim();
    if (field.type === 'money' ? !MONEY.test(text) : Number.isNaN(Number(text))) return field.type;
    const value = Number(text);
    if ((field.min != null && value < field.min) || (field.max != null && value > field.max)) return 'range';
  }
  if (field.type === 'date_range') {
    const { from, to } = answer as DateRange;
    if (to < from) return 'order';
  }
  if (field.type === 'line_items') {
    for (const item of answer as LineItem[]) {
      if (item.description.trim() || item.amount.trim()) {
        if (!item.description.trim()) return 'required';
        if (!MONEY.test(item.amount.trim())) return 'money';
      }
    }
  }
  return null;
}

/** The answers as the API takes them; blank optional answers are left out. */
export function toValues(fields: FormField[], answers: Answers): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const field of fields) {
    const answer = answers[field.key];
    if (isBlank(field, answer)) continue;
    switch (field.type) {
      case 'number':
        values[field.key] = Number((answer as string).trim());
        break;
      case 'money':
        values[field.key] = (answer as string).trim();
        break;
      case 'line_items':
        values[field.key] = (answer as LineItem[])
          .filter((i) => i.description.trim() || i.amount.trim())
          .map((i) => ({ description: i.description.trim(), amount: i.amount.trim() }));
        break;
      case 'text':
      case 'long_text':
        values[field.key] = (answer as string).trim();
        break;
      default:
        values[field.key] = answer;
    }
  }
  return values;
}

/** Monday to Friday from `from` to `to`, both included — what the server computes. */
export function workingDays(from: string, to: string): number {
  if (!from || !to || to < from) return 0;
  const start = new Date(`${from}T00:00:00Z`);
  const end = new Date(`${to}T00:00:00Z`);
  let days = 0;
  for (let d = start; d <= end && days <= 400; d = new Date(d.getTime() + 86_400_000)) {
    const weekday = d.getUTCDay();
    if (weekday !== 0 && weekday !== 6) days++;
  }
  return days;
}

/** "12.50" + "3" → "15.50": the total of line items, in cents to stay exact. */
export function lineItemsTotal(items: LineItem[]): string {
  let cents = 0;
  for (const item of items) {
    const text = item.amount.trim();
    if (!MONEY.test(text)) continue;
    const [whole, fraction = ''] = text.replace('-', '').split('.');
    const value = Number(whole) * 100 + Number(fraction.padEnd(2, '0'));
    cents += text.startsWith('-') ? -value : value;
  }
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/** A new field for the template editor, with a key not yet taken. */
export function newField(taken: string[], type: FormField['type'] = 'text'): FormField {
  let n = taken.length + 1;
  while (taken.includes(`field_${n}`)) n++;
  return { key: `field_${n}`, label: '', type, required: false, help: '', options: [], min: null, max: null };
}

export const FIELD_TYPES: FormField['type'][] = [
  'text',
  'long_text',
  'number',
  'money',
  'date',
  'date_range',
  'single_select',
  'multi_select',
  'employee',
  'attachment',
  'line_items',
];
