/**
 * A fresh AbortSignal per run that follows a parent: the replay engine hooks 'abort' listeners on
 * the signal it is given, so a sweep or compare that handed one signal to every run would pile
 * them up on it. The link is removed when the run ends.
 */
export function childSignal(parent: AbortSignal | undefined): { signal: AbortSignal | undefined; dispose: () => void } {
  if (parent === undefined) return { signal: undefined, dispose: () => undefined };
  const child = new AbortController();
  if (parent.aborted) child.abort();
  const forward = (): void => child.abort();
  parent.addEventListener('abort', forward, { once: true });
  return { signal: child.signal, dispose: () => parent.removeEventListener('abort', forward) };
}
