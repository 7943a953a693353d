import { api } from '../api';
import { useLoad } from '../use-poll';

/** A scan result's summary (its scalar fields), as the API answers it. */
export function ScanResultPage(props: { scanId: string }) {
  const loaded = useLoad(`scan:${props.scanId}`, () =>
    api<Record<string, unknown>>(`/api/v1/scan-results/${encodeURIComponent(props.scanId)}`),
  );
  if (loaded.error)
    return (
      <p role="alert" class="error">
        {loaded.error}
      </p>
    );
  if (!loaded.data) return <p aria-busy="true">Loading the scan result…</p>;
  const scalars = Object.entries(loaded.data).filter(
    ([, value]) => value === null || typeof value !== 'object',
  );
  return (
    <section aria-labelledby="scan-title">
      <h1 id="scan-title">Scan result {props.scanId}</h1>
      <dl class="facts">
        {scalars.map(([key, value]) => (
          <>
            <dt key={`${key}-term`}>{key}</dt>
            <dd key={`${key}-value`}>{String(value ?? '—')}</dd>
          </>
        ))}
      </dl>
    </section>
  );
}
