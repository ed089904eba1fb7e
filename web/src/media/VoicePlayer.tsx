import { Pause, Play } from 'lucide-react';
import { useEffect, useRef, useState } from 'react';
import type { Media } from '../api/types';
import { useI18n } from '../i18n';
import { clockText } from './burn';
import { useMediaUrl } from './useMediaUrl';
import { Waveform } from './Waveform';
import { playedFraction } from './waveform';

interface Props {
  media: Media;
  /** Start playing as soon as the clip is loaded (the full-screen viewer of a voice photo). */
  autoPlay?: boolean;
  large?: boolean;
}

/** A voice clip: play/pause, its waveform filling up as it plays, and the time. */
export function VoicePlayer({ media, autoPlay, large }: Props) {
  const { t } = useI18n();
  const { data: url, isError } = useMediaUrl(media.id, false);
  const audio = useRef<HTMLAudioElement>(null);
  const [playing, setPlaying] = useState(false);
  const [position, setPosition] = useState(0);
  const knownS = media.duration_ms ? media.duration_ms / 1000 : 0;
  const [durationS, setDurationS] = useState(knownS);

  useEffect(() => {
    const el = audio.current;
    if (!autoPlay || !url || !el) return;
    // Autoplay may still be refused (no user gesture yet): the play button stays there.
    el.play().catch(() => setPlaying(false));
  }, [autoPlay, url]);

  // The position is read every frame while playing: timeupdate alone comes only ~4 times a second.
  useEffect(() => {
    if (!playing) return;
    let frame = requestAnimationFrame(function tick() {
      setPosition(audio.current?.currentTime ?? 0);
      frame = requestAnimationFrame(tick);
    });
    return () => cancelAnimationFrame(frame);
  }, [playing]);

  const fraction = playedFraction(position, durationS);
  const toggle = () => {
    const el = audio.current;
    if (!el) return;
    if (el.paused) void el.play().catch(() => setPlaying(false));
    else el.pause();
  };
  const seek = (f: number) => {
    const el = audio.current;
    if (!el || !durationS) return;
    el.currentTime = f * durationS;
    setPosition(el.currentTime);
  };
  const shown = playing || position > 0 ? position : durationS;

  if (isError) return <span className="media-failed">{t('chat.mediaFailed')}</span>;
  return (
    <div className={`voice-player${large ? ' voice-player-large' : ''}`} data-testid="voice-player" data-playing={playing}>
      <button type="button" className="voice-toggle" onClick={toggle} disabled={!url} aria-label={playing ? t('media.pause') : t('media.play')}>
        {playing ? <Pause size={large ? 24 : 18} aria-hidden="true" /> : <Play size={large ? 24 : 18} aria-hidden="true" />}
      </button>
      <Waveform
        peaks={media.waveform ?? []}
        progress={fraction}
        bars={large ? 64 : 32}
        large={large}
        label={t('chat.voice')}
        valueText={`${clockText(position)} / ${clockText(durationS)}`}
        onSeek={url ? seek : undefined}
      />
      <span className="media-duration">{clockText(shown)}</span>
      {url && (
        <audio
          ref={audio}
          src={url}
          preload="auto"
          data-testid="voice-audio"
          onPlay={() => setPlaying(true)}
          onPause={() => setPlaying(false)}
          onEnded={() => {
            setPlaying(false);
            setPosition(0);
          }}
          onLoadedMetadata={(e) => {
            const d = e.currentTarget.duration;
            if (Number.isFinite(d) && d > 0) setDurationS(d);
          }}
        />
      )}
    </div>
  );
}
