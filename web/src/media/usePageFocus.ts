import { useEffect, useState } from 'react';

function pageIsWatched(): boolean {
  return document.visibilityState === 'visible' && document.hasFocus();
}

/**
 * True while the page has focus and is visible. Burn-after-reading content is blurred
 * otherwise, so switching apps or windows (or a screen-recording overlay taking focus)
 * does not leave it on screen.
 */
export function usePageFocus(): boolean {
  const [watched, setWatched] = useState(pageIsWatched);
  useEffect(() => {
    const lost = () => setWatched(false);
    const maybeBack = () => setWatched(pageIsWatched());
    window.addEventListener('blur', lost);
    window.addEventListener('focus', maybeBack);
    document.addEventListener('visibilitychange', maybeBack);
    return () => {
      window.removeEventListener('blur', lost);
      window.removeEventListener('focus', maybeBack);
      document.removeEventListener('visibilitychange', maybeBack);
    };
  }, []);
  return watched;
}
