import type { MessageKey } from '../i18n/en';
import type { Translate } from '../i18n';
import { errorText } from '../ui/format';
import type { CaptureProblem } from './recorder';

const CAPTURE_KEYS: Record<'camera' | 'microphone', Record<CaptureProblem, MessageKey>> = {
  camera: {
    denied: 'media.camera.denied',
    no_device: 'media.camera.none',
    busy: 'media.camera.busy',
    unsupported: 'media.camera.unsupported',
    too_short: 'media.camera.failed',
    failed: 'media.camera.failed',
  },
  microphone: {
    denied: 'media.mic.denied',
    no_device: 'media.mic.none',
    busy: 'media.mic.busy',
    unsupported: 'media.mic.unsupported',
    too_short: 'media.mic.tooShort',
    failed: 'media.mic.failed',
  },
};

export function captureProblemText(device: 'camera' | 'microphone', problem: CaptureProblem, t: Translate): string {
  return t(CAPTURE_KEYS[device][problem]);
}

const UPLOAD_KEYS: Record<string, MessageKey> = {
  file_too_large: 'media.upload.tooLarge',
  unsupported_media_type: 'media.upload.unsupported',
  invalid_media: 'media.upload.invalid',
  image_too_large: 'media.upload.imageTooLarge',
  audio_too_long: 'media.upload.audioTooLong',
};

/** Why an upload was refused, from the server's error code. */
export function uploadErrorText(err: unknown, t: Translate): string {
  const code = (err as { code?: string } | null)?.code;
  const key = code ? UPLOAD_KEYS[code] : undefined;
  return key ? t(key) : errorText(err, t);
}
