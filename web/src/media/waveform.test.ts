import { describe, expect, it } from 'vitest';
import { playedBars, playedFraction, seekFraction, waveformBars } from './waveform';

describe('waveform bars', () => {
  it('lays bars out across the width with gaps, centred vertically', () => {
    const bars = waveformBars([255, 0, 51, 102], 4, 38, 20, 2);
    expect(bars.map((b) => b.x)).toEqual([0, 10, 20, 30]);
    expect(bars.every((b) => b.width === 8)).toBe(true);
    expect(bars[0]).toEqual({ x: 0, y: 0, width: 8, height: 20 });
    expect(bars[2]!.height).toBeCloseTo(4);
    expect(bars[2]!.y).toBeCloseTo(8);
  });

  it('keeps a thin line for silence', () => {
    const bars = waveformBars([0, 0], 2, 10, 20, 0);
    expect(bars.map((b) => b.height)).toEqual([2, 2]);
    expect(bars.map((b) => b.y)).toEqual([9, 9]);
  });

  it('takes the loudest peak of each slice when shrinking 64 peaks to fewer bars', () => {
    const peaks = Array.from({ length: 64 }, (_, i) => (i === 5 ? 255 : 10));
    const bars = waveformBars(peaks, 16, 160, 100, 0);
    expect(bars).toHaveLength(16);
    expect(bars[1]!.height).toBe(100); // peaks 4–7 hold the click
    expect(bars[0]!.height).toBeCloseTo((10 / 255) * 100);
  });

  it('stretches few peaks over more bars', () => {
    const bars = waveformBars([255, 0], 4, 40, 10, 0);
    expect(bars.map((b) => b.height)).toEqual([10, 10, 2, 2]);
  });

  it('clamps bad peaks and draws nothing in an empty box', () => {
    const bars = waveformBars([999, -4, Number.NaN], 3, 30, 10, 0);
    expect(bars.map((b) => b.height)).toEqual([10, 2, 2]);
    expect(waveformBars([1, 2], 0, 30, 10)).toEqual([]);
    expect(waveformBars([1, 2], 4, 0, 10)).toEqual([]);
    expect(waveformBars([], 2, 10, 10, 0).map((b) => b.height)).toEqual([2, 2]);
  });
});

describe('playback progress', () => {
  it('is the played fraction of a known duration', () => {
    expect(playedFraction(1, 4)).toBe(0.25);
    expect(playedFraction(9, 4)).toBe(1);
    expect(playedFraction(1, Number.NaN)).toBe(0);
    expect(playedFraction(1, Infinity)).toBe(0);
    expect(playedFraction(1, 0)).toBe(0);
  });

  it('colours a bar once playback reaches it', () => {
    expect(playedBars(0, 32)).toBe(0);
    expect(playedBars(0.001, 32)).toBe(1);
    expect(playedBars(0.5, 32)).toBe(16);
    expect(playedBars(1, 32)).toBe(32);
  });

  it('maps a tap to a seek position', () => {
    expect(seekFraction(50, 200)).toBe(0.25);
    expect(seekFraction(-5, 200)).toBe(0);
    expect(seekFraction(500, 200)).toBe(1);
    expect(seekFraction(5, 0)).toBe(0);
  });
});
