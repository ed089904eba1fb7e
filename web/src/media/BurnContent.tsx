import type { ReactNode } from 'react';
import { useI18n } from '../i18n';
import { usePageFocus } from './usePageFocus';

/** Burn-after-reading content, blurred whenever the page loses focus or is hidden. */
export function BurnContent({ burn, children }: { burn: boolean; children: (hidden: boolean) => ReactNode }) {
  return burn ? <Watched>{children}</Watched> : <>{children(false)}</>;
}

function Watched({ children }: { children: (hidden: boolean) => ReactNode }) {
  const { t } = useI18n();
  const watched = usePageFocus();
  return (
    <div className={`burn-content${watched ? '' : ' burn-hidden'}`} data-testid="burn-content" data-hidden={!watched}>
      {children(!watched)}
      {!watched && <span className="burn-hidden-note">{t('burn.hiddenNote')}</span>}
    </div>
  );
}
