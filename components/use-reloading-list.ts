// Manager-view sections share one shape: load what the backend has, let the manager act on a
// row, then load again; an error from either shows in the section. This hook is that shape.
import { useCallback, useEffect, useState } from 'react';
import { errorMessage } from './background-client';

export function useReloadingList<T>(fetchData: () => Promise<T>) {
  const [data, setData] = useState<T | null>(null);
  const [err, setErr] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const load = useCallback(async () => {
    try {
      setData(await fetchData());
    } catch (e) {
      setErr(errorMessage(e));
    }
  }, [fetchData]);
  useEffect(() => void load(), [load]);

  /** Runs one action, then reloads; the section is busy meanwhile. */
  const run = async (work: () => Promise<unknown>) => {
    setBusy(true);
    setErr(null);
    try {
      await work();
      await load();
    } catch (e) {
      setErr(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };

  return { data, err, setErr, busy, run };
}
