import { useMemo, type KeyboardEvent, type PointerEvent } from 'react';
import { playedBars, seekFraction, waveformBars } from './waveform';

interface Props {
  peaks: readonly number[];
  /** Played fraction, 0–1. */
  progress: number;
  bars: number;
  label: string;
  valueText: string;
  onSeek?: (fraction: number) => void;
  large?: boolean;
}

const VIEW_HEIGHT = 40;

/** The clip's loudness as bars; the played part in the accent colour. A slider to seek. */
export function Waveform({ peaks, progress, bars, label, valueText, onSeek, large }: Props) {
  const width = bars * 5;
  const shapes = useMemo(() => waveformBars(peaks, bars, width, VIEW_HEIGHT, 2), [peaks, bars, width]);
  const played = playedBars(progress, bars);
  const seekByPointer = (e: PointerEvent<SVGSVGElement>) => {
    if (!onSeek) return;
    const box = e.currentTarget.getBoundingClientRect();
    onSeek(seekFraction(e.clientX - box.left, box.width));
  };
  const seekByKey = (e: KeyboardEvent<SVGSVGElement>) => {
    if (!onSeek) return;
    const step = e.key === 'ArrowRight' || e.key === 'ArrowUp' ? 0.05 : e.key === 'ArrowLeft' || e.key === 'ArrowDown' ? -0.05 : null;
    if (e.key === 'Home') onSeek(0);
    else if (e.key === 'End') onSeek(1);
    else if (step === null) return;
    else onSeek(Math.min(1, Math.max(0, progress + step)));
    e.preventDefault();
  };
  return (
    <svg
      className={`waveform${large ? ' waveform-large' : ''}`}
      viewBox={`0 0 ${width} ${VIEW_HEIGHT}`}
      preserveAspectRatio="none"
      role="slider"
      tabIndex={onSeek ? 0 : -1}
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={Math.round(progress * 100)}
      aria-valuetext={valueText}
      data-testid="waveform"
      data-played={played}
      onPointerDown={seekByPointer}
      onKeyDown={seekByKey}
    >
      {shapes.map((b, i) => (
        <rect key={i} x={b.x} y={b.y} width={b.width} height={b.height} rx={Math.min(1.5, b.width / 2)} className={i < played ? 'wave-played' : 'wave-rest'} />
      ))}
    </svg>
  );
}
