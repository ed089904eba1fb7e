import { describe, expect, it } from 'vitest';
import type { FormField } from './api';
import { answerProblem, emptyAnswers, lineItemsTotal, newField, toValues, workingDays } from './form';

const field = (over: Partial<FormField>): FormField => ({ key: 'f', label: 'F', type: 'text', required: false, help: '', options: [], min: null, max: null, ...over });

describe('approval forms', () => {
  it('counts Monday to Friday, both ends included', () => {
    expect(workingDays('2026-12-07', '2026-12-11')).toBe(5); // Mon..Fri
    expect(workingDays('2026-12-05', '2026-12-06')).toBe(0); // a weekend
    expect(workingDays('2026-12-04', '2026-12-08')).toBe(3); // Fri, Mon, Tue
    expect(workingDays('2026-12-08', '2026-12-07')).toBe(0);
    expect(workingDays('', '2026-12-07')).toBe(0);
  });

  it('finds missing, malformed and out-of-range answers', () => {
    expect(answerProblem(field({ required: true }), '  ')).toBe('required');
    expect(answerProblem(field({}), '')).toBeNull();
    expect(answerProblem(field({ type: 'money' }), '12.345')).toBe('money');
    expect(answerProblem(field({ type: 'money' }), '12.34')).toBeNull();
    expect(answerProblem(field({ type: 'number', min: 1, max: 3 }), '4')).toBe('range');
    expect(answerProblem(field({ type: 'number' }), 'x')).toBe('number');
    expect(answerProblem(field({ type: 'date_range', required: true }), { from: '2026-12-07', to: '' })).toBe('required');
    expect(answerProblem(field({ type: 'date_range' }), { from: '2026-12-08', to: '2026-12-07' })).toBe('order');
    expect(answerProblem(field({ type: 'line_items' }), [{ description: '', amount: '3' }])).toBe('required');
    expect(answerProblem(field({ type: 'line_items' }), [{ description: 'Taxi', amount: 'x' }])).toBe('money');
  });

  it('sends typed values and leaves blank optional answers out', () => {
    const fields = [field({ key: 'days', type: 'number' }), field({ key: 'note' }), field({ key: 'items', type: 'line_items' }), field({ key: 'cost', type: 'money' })];
    const answers = { ...emptyAnswers(fields), days: ' 3 ', items: [{ description: ' Taxi ', amount: '12.5' }, { description: '', amount: '' }], cost: '7' };
    expect(toValues(fields, answers)).toEqual({ days: 3, items: [{ description: 'Taxi', amount: '12.5' }], cost: '7' });
  });

  it('adds money exactly', () => {
    expect(lineItemsTotal([{ description: 'a', amount: '0.10' }, { description: 'b', amount: '0.20' }])).toBe('0.30');
    expect(lineItemsTotal([{ description: 'a', amount: '12.5' }, { description: 'b', amount: '-2.75' }, { description: 'c', amount: 'x' }])).toBe('9.75');
  });

  it('gives a new field a free key', () => {
    expect(newField(['field_2', 'field_3']).key).toBe('field_4');
    expect(newField([]).key).toBe('field_1');
  });
});
