// The math behind a voice clip's waveform: the server sends 64 peaks (0–255, equal
// durations); the client draws them as bars and colours the part already played.

export interface Bar {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * Resamples peaks to `count` bars (each the loudest peak of its slice, so short clicks stay
 * visible) and lays them out centred in a width × height box. Silence keeps a thin line.
 */
export function waveformBars(peaks: readonly number[], count: number, width: number, height: number, gap = 2): Bar[] {
  if (count <= 0 || width <= 0 || height <= 0) return [];
  const barWidth = Math.max(1, (width - gap * (count - 1)) / count);
  const minHeight = Math.min(2, height);
  const bars: Bar[] = [];
  for (let i = 0; i < count; i++) {
    const level = peakOfSlice(peaks, i, count) / 255;
    const h = Math.max(minHeight, level * height);
    bars.push({ x: i * (barWidth + gap), y: (height - h) / 2, width: barWidth, height: h });
  }
  return bars;
}

function peakOfSlice(peaks: readonly number[], index: number, count: number): number {
  if (peaks.length === 0) return 0;
  const start = Math.floor((index * peaks.length) / count);
  const end = Math.max(start + 1, Math.floor(((index + 1) * peaks.length) / count));
  let max = 0;
  for (let j = start; j < end && j < peaks.length; j++) max = Math.max(max, clampPeak(peaks[j]!));
  return max;
}

function clampPeak(p: number): number {
  return Number.isFinite(p) ? Math.min(255, Math.max(0, p)) : 0;
}

/** Played fraction 0–1 from an audio element's clock; unknown durations count as not started. */
export function playedFraction(currentTime: number, duration: number): number {
  if (!Number.isFinite(duration) || duration <= 0 || !Number.isFinite(currentTime)) return 0;
  return Math.min(1, Math.max(0, currentTime / duration));
}

/** How many of `count` bars are played: a bar counts once playback has reached its start. */
export function playedBars(fraction: number, count: number): number {
  if (fraction <= 0) return 0;
  return Math.min(count, Math.ceil(fraction * count));
}

/** The fraction a click or tap at `x` in a `width`-wide waveform asks to seek to. */
export function seekFraction(x: number, width: number): number {
  if (width <= 0) return 0;
  return Math.min(1, Math.max(0, x / width));
}
