// Intl rejects POSIX locale names. WebKitGTK under LANG=C or C.UTF-8 (common
// in containers and CI) reports navigator.language as "C", and uPlot formats
// numbers with new Intl.NumberFormat(navigator.language) as it loads: the
// whole dashboard would fail to start. Imported first by main.ts, this puts
// a tag Intl accepts in its place.

/** validLocale returns tag if Intl accepts it, else the fallback. */
export function validLocale(tag: string | undefined, fallback = 'en-US'): string {
  if (!tag) return fallback;
  try {
    new Intl.NumberFormat(tag);
    return tag;
  } catch {
    return fallback;
  }
}

if (typeof navigator !== 'undefined') {
  const tag = validLocale(navigator.language);
  if (tag !== navigator.language) {
    Object.defineProperty(navigator, 'language', { value: tag, configurable: true });
  }
}
