import { describe, expect, it } from 'vitest';
import { burnSeconds, clockText, msUntilNextTick, secondsLeft } from './burn';

const at = '2026-12-02T10:00:10.000Z';
const t0 = Date.parse('2026-12-02T10:00:00.000Z');

describe('burn seconds', () => {
  it('keeps the server range 5–300 and whole seconds', () => {
    expect(burnSeconds('10')).toBe(10);
    expect(burnSeconds(2)).toBe(5);
    expect(burnSeconds('9000')).toBe(300);
    expect(burnSeconds('12.6')).toBe(13);
  });

  it('refuses what is not a number', () => {
    expect(burnSeconds('')).toBeNull();
    expect(burnSeconds('ten')).toBeNull();
    expect(burnSeconds(Number.NaN)).toBeNull();
  });
});

describe('the reader countdown', () => {
  it('rounds up so zero shows only when the time is over', () => {
    expect(secondsLeft(at, t0)).toBe(10);
    expect(secondsLeft(at, t0 + 1)).toBe(10);
    expect(secondsLeft(at, t0 + 9_001)).toBe(1);
    expect(secondsLeft(at, t0 + 10_000)).toBe(0);
    expect(secondsLeft(at, t0 + 60_000)).toBe(0);
  });

  it('has no countdown before the timer starts', () => {
    expect(secondsLeft(null, t0)).toBeNull();
    expect(secondsLeft(undefined, t0)).toBeNull();
    expect(secondsLeft('not a time', t0)).toBeNull();
  });

  it('ticks on the boundary where the shown number changes', () => {
    expect(msUntilNextTick(at, t0)).toBe(1000);
    expect(msUntilNextTick(at, t0 + 250)).toBe(750);
    expect(msUntilNextTick(at, t0 + 9_999)).toBe(1);
    expect(msUntilNextTick(at, t0 + 10_000)).toBe(0);
  });

  it('shows minutes and seconds', () => {
    expect(clockText(7)).toBe('0:07');
    expect(clockText(75)).toBe('1:15');
    expect(clockText(300)).toBe('5:00');
    expect(clockText(-3)).toBe('0:00');
  });
});
