import { Camera } from 'lucide-react';
import { useEffect, useRef, useState } from 'react';
import { useI18n } from '../i18n';
import { captureProblemText } from './problems';
import { captureProblem, type CaptureProblem } from './recorder';

// Photos from the camera are scaled to at most this long edge: plenty for a chat, small to send.
const MAX_EDGE = 2048;

/** A live camera preview with a shutter button; the photo comes back as a JPEG blob. */
export function CameraView({ onCapture }: { onCapture: (photo: Blob) => void }) {
  const { t } = useI18n();
  const video = useRef<HTMLVideoElement>(null);
  const [problem, setProblem] = useState<CaptureProblem | null>(null);
  const [ready, setReady] = useState(false);

  useEffect(() => {
    let stream: MediaStream | null = null;
    let gone = false;
    if (!navigator.mediaDevices?.getUserMedia) {
      setProblem('unsupported');
      return;
    }
    navigator.mediaDevices
      .getUserMedia({ video: { facingMode: 'environment', width: { ideal: 1920 }, height: { ideal: 1080 } }, audio: false })
      .then((s) => {
        if (gone) return s.getTracks().forEach((track) => track.stop());
        stream = s;
        if (video.current) video.current.srcObject = s;
      })
      .catch((err: unknown) => {
        if (!gone) setProblem(captureProblem(err));
      });
    return () => {
      gone = true;
      stream?.getTracks().forEach((track) => track.stop());
    };
  }, []);

  const shoot = () => {
    const el = video.current;
    if (!el || !el.videoWidth) return;
    const scale = Math.min(1, MAX_EDGE / Math.max(el.videoWidth, el.videoHeight));
    const canvas = document.createElement('canvas');
    canvas.width = Math.round(el.videoWidth * scale);
    canvas.height = Math.round(el.videoHeight * scale);
    canvas.getContext('2d')?.drawImage(el, 0, 0, canvas.width, canvas.height);
    canvas.toBlob((blob) => (blob ? onCapture(blob) : setProblem('failed')), 'image/jpeg', 0.88);
  };

  if (problem)
    return (
      <p className="form-error" role="alert" data-testid="camera-problem">
        {captureProblemText('camera', problem, t)}
      </p>
    );
  return (
    <div className="camera">
      <video ref={video} className="camera-preview" autoPlay playsInline muted onLoadedData={() => setReady(true)} aria-label={t('media.camera.preview')} />
      <button type="button" className="button button-primary camera-shutter" onClick={shoot} disabled={!ready}>
        <Camera size={18} aria-hidden="true" /> {t('media.camera.shoot')}
      </button>
    </div>
  );
}
