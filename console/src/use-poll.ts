import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from './api';

export interface Loaded<T> {
  data: T | undefined;
  error: string | null;
  loading: boolean;
  reload: () => void;
}

/**
 * Loads `load()` when `key` changes, and again every `intervalMs` while `shouldPoll(data)` says so
 * (live views). A later answer never overwrites a newer request's.
 */
export function useLoad<T>(
  key: string,
  load: () => Promise<T>,
  options: {
    intervalMs?: number;
    shouldPoll?: (data: T | undefined) => boolean;
    /** Start after the view has been painted (what the first screen does not wait for). */
    afterPaint?: boolean;
  } = {},
): Loaded<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const sequence = useRef(0);
  const latest = useRef<T | undefined>(undefined);

  // A new key clears the old answer (before the new load starts: its answer may come at once).
  useLayoutEffect(() => {
    latest.current = undefined;
    setData(undefined);
  }, [key]);

  const start = () => {
    const mine = ++sequence.current;
    setLoading(true);
    load().then(
      (value) => {
        if (mine !== sequence.current) return;
        latest.current = value;
        setData(value);
        setError(null);
        setLoading(false);
      },
      (reason: unknown) => {
        if (mine !== sequence.current) return;
        setError(reason instanceof ApiError || reason instanceof Error ? reason.message : String(reason));
        setLoading(false);
      },
    );
  };
  // Started as soon as the view is in the DOM, not a frame later (unless it may wait for a paint).
  useLayoutEffect(() => {
    if (!options.afterPaint) start();
  }, [key, tick]);
  useEffect(() => {
    if (options.afterPaint) start();
  }, [key, tick]);

  useEffect(() => {
    if (!options.intervalMs) return;
    const timer = setInterval(() => {
      if (!options.shouldPoll || options.shouldPoll(latest.current)) setTick((value) => value + 1);
    }, options.intervalMs);
    return () => clearInterval(timer);
  }, [key, options.intervalMs, options.shouldPoll]);

  return { data, error, loading, reload: () => setTick((value) => value + 1) };
}
