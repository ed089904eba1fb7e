import { describe, expect, it } from 'vitest';
import { ApiError } from '../api/http';
import { DICTIONARIES } from '../i18n';
import { en } from '../i18n/en';
import { format } from '../i18n';
import { captureProblemText, uploadErrorText } from './problems';
import { clipName, type CaptureProblem } from './recorder';

const t = (key: keyof typeof en, values?: Record<string, string | number>) => format(en[key], values);

describe('what the person is told', () => {
  it('explains each camera and microphone problem in its own words', () => {
    const problems: CaptureProblem[] = ['denied', 'no_device', 'busy', 'unsupported', 'failed'];
    for (const device of ['camera', 'microphone'] as const) {
      const texts = problems.map((p) => captureProblemText(device, p, t));
      expect(new Set(texts).size).toBe(problems.length);
      expect(texts[0]).toMatch(device === 'camera' ? /camera/ : /microphone/);
    }
    expect(captureProblemText('microphone', 'too_short', t)).toMatch(/short/i);
  });

  it('names the reason an upload was refused from the server code', () => {
    expect(uploadErrorText(new ApiError(413, 'file_too_large', 'x'), t)).toBe(en['media.upload.tooLarge']);
    expect(uploadErrorText(new ApiError(415, 'unsupported_media_type', 'x'), t)).toBe(en['media.upload.unsupported']);
    expect(uploadErrorText(new ApiError(422, 'audio_too_long', 'x'), t)).toBe(en['media.upload.audioTooLong']);
    expect(uploadErrorText(new ApiError(null, 'network', 'offline'), t)).toBe(en['error.network']);
    expect(uploadErrorText(new ApiError(500, 'internal', 'x'), t)).toBe(en['error.generic']);
  });

  it('has every message in Chinese too', () => {
    expect(DICTIONARIES['zh-CN']['media.mic.denied']).not.toBe(en['media.mic.denied']);
  });
});

describe('clip names', () => {
  it('follow the recorded container', () => {
    expect(clipName(new Blob([], { type: 'audio/webm;codecs=opus' }))).toBe('voice.webm');
    expect(clipName(new Blob([], { type: 'audio/mp4' }))).toBe('voice.m4a');
    expect(clipName(new Blob([], { type: 'audio/ogg;codecs=opus' }))).toBe('voice.ogg');
    expect(clipName(new Blob([]))).toBe('voice.webm');
  });
});
