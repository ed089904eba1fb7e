import { useId } from 'react';

/** Knock's mark: a speech bubble with two knocks. Decorative: the name is always next to it. */
export function Logo({ size = 36 }: { size?: number }) {
  // Each instance needs its own gradient id: a hidden copy's gradient would not paint.
  const gradient = `knock-logo-${useId().replace(/:/g, '')}`;
  return (
    <svg width={size} height={size} viewBox="0 0 64 64" aria-hidden="true" className="logo">
      <defs>
        <linearGradient id={gradient} x1="0" y1="0" x2="1" y2="1">
          <stop offset="0" stopColor="#6f7ff0" />
          <stop offset="1" stopColor="#4354c8" />
        </linearGradient>
      </defs>
      <rect width="64" height="64" rx="16" fill={`url(#${gradient})`} />
      <path d="M17 20.5c0-2.5 2-4.5 4.5-4.5h21c2.5 0 4.5 2 4.5 4.5v15c0 2.5-2 4.5-4.5 4.5H30l-8 7v-7h-.5c-2.5 0-4.5-2-4.5-4.5z" fill="#fff" />
      <circle cx="27" cy="28" r="3" fill="#4a5bd4" />
      <circle cx="37" cy="28" r="3" fill="#4a5bd4" opacity=".55" />
    </svg>
  );
}
