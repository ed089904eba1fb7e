import { useI18n } from '../i18n';
import { Dialog } from '../ui/Dialog';
import { CameraView } from './CameraView';

/** Takes one photo with the device's camera; it is sent as a photo message. */
export function CameraDialog({ onCapture, onClose }: { onCapture: (photo: Blob) => void; onClose: () => void }) {
  const { t } = useI18n();
  return (
    <Dialog title={t('media.takePhoto')} onClose={onClose} wide>
      <CameraView onCapture={onCapture} />
    </Dialog>
  );
}
