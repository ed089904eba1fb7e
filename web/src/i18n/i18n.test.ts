import { describe, expect, it } from 'vitest';
import { en } from './en';
import { DICTIONARIES, format, LOCALES, pickLocale } from './index';

const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe('i18n', () => {
  it('every key exists in every language, with a non-empty text', () => {
    for (const { id } of LOCALES) {
      const dict = DICTIONARIES[id];
      expect(Object.keys(dict).sort()).toEqual(Object.keys(en).sort());
      for (const [key, text] of Object.entries(dict)) expect(text.trim(), `${id} ${key}`).not.toBe('');
    }
  });

  it('translations keep the same placeholders', () => {
    for (const { id } of LOCALES) {
      for (const key of Object.keys(en) as (keyof typeof en)[]) {
        expect(placeholders(DICTIONARIES[id][key]), `${id} ${key}`).toEqual(placeholders(en[key]));
      }
    }
  });

  it('picks the language from the browser', () => {
    expect(pickLocale(['zh-CN', 'en'])).toBe('zh-CN');
    expect(pickLocale(['zh-Hans-CN'])).toBe('zh-CN');
    expect(pickLocale(['fr-FR', 'en-GB'])).toBe('en');
    expect(pickLocale(['de'])).toBe('en');
    expect(pickLocale([])).toBe('en');
  });

  it('fills placeholders', () => {
    expect(format('{count} unread', { count: 3 })).toBe('3 unread');
    expect(format('Hi {name}, {missing}', { name: 'Ann' })).toBe('Hi Ann, {missing}');
  });
});
