import type { FunctionComponent } from 'preact';
import { useEffect, useState } from 'preact/hooks';

/**
 * A page whose code loads when it is first shown (its own chunk, with the libraries only it uses:
 * dagre for the Run page, cronstrue for the Schedule pages), so the first screen boots less script.
 */
export function lazyPage<P extends object>(load: () => Promise<FunctionComponent<P>>): FunctionComponent<P> {
  let loaded: FunctionComponent<P> | undefined;
  let pending: Promise<FunctionComponent<P>> | undefined;
  return function LazyPage(props: P) {
    const [Page, setPage] = useState<FunctionComponent<P> | undefined>(() => loaded);
    const [error, setError] = useState<string | null>(null);
    useEffect(() => {
      if (Page) return;
      pending ??= load().then((page) => {
        loaded = page;
        return page;
      });
      pending.then(
        (page) => setPage(() => page),
        (reason: Error) => {
          pending = undefined;
          setError(`The page could not be loaded: ${reason.message}`);
        },
      );
    }, [Page]);
    if (error)
      return (
        <p role="alert" class="error">
          {error}
        </p>
      );
    return Page ? <Page {...props} /> : <p aria-busy="true">Loading…</p>;
  };
}
