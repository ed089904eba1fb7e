// Calm hues, each dark enough for white initials (contrast ≥ 4.5:1).
const PALETTE = ['#4a5bd4', '#b4512f', '#2f7f73', '#a8497f', '#86680f', '#3f6fb0', '#7255c4', '#3b7f48'];

/** A stable colour per id (FNV-1a, then a final mix so ids that share a prefix spread out). */
export function colorFor(id: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  return PALETTE[(h >>> 0) % PALETTE.length]!;
}

export function initials(name: string): string {
  const trimmed = name.trim();
  if (!trimmed) return '?';
  // CJK names: the last one or two characters read best (given name).
  if (/[\u3400-\u9fff]/.test(trimmed)) return trimmed.replace(/\s+/g, '').slice(-2);
  const words = trimmed.split(/\s+/).filter(Boolean);
  const letters = words.length > 1 ? words[0]![0]! + words[words.length - 1]![0]! : trimmed.slice(0, 2);
  return letters.toUpperCase();
}

interface Props {
  id: string;
  name: string;
  size?: 'xs' | 'sm' | 'md' | 'lg' | 'xl';
  group?: boolean;
}

/** A coloured circle (or rounded square for groups) with initials; decorative next to a name. */
export function Avatar({ id, name, size = 'md', group = false }: Props) {
  return (
    <span className={`avatar avatar-${size}${group ? ' avatar-group' : ''}`} style={{ backgroundColor: colorFor(id) }} aria-hidden="true">
      {initials(name)}
    </span>
  );
}
