// A constant-rate (open-loop) load in its own process: request i is due at start + i / rate, and
// is sent then whatever the earlier answers do (up to `connections` in flight; a request that
// finds none free waits, and that wait counts in its latency). Latency runs from the time the
// request was due, so a slow answer cannot hide the requests queued behind it.
// autocannon's `overallRate` sends each connection's share at the start of every second instead
// (200 requests/s arrive as bursts of 200): the bench runs this one, for an even 200 requests/s.
// The first `warmup` seconds run at the same rate but are reported apart (`warmup`): a runtime
// that has just started runs its handlers unoptimized (V8 compiles them as they get hot).
import { Agent, request } from 'node:http';

function percentile(sorted, fraction) {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)];
}

function figures(sorted, count, seconds) {
  return {
    requests: count,
    requests_per_second: seconds > 0 ? Number((count / seconds).toFixed(1)) : 0,
    p50_ms: Number(percentile(sorted, 0.5).toFixed(1)),
    p99_ms: Number(percentile(sorted, 0.99).toFixed(1)),
    max_ms: Number((sorted.at(-1) ?? 0).toFixed(1)),
  };
}

function run({ url, rate, duration, warmup = 0, connections, timeout, requests }) {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const warmupCount = Math.round(rate * warmup);
  const total = warmupCount + Math.round(rate * duration);
  const warmupLatencies = [];
  let warmupErrors = 0;
  let measuredFrom = Number.POSITIVE_INFINITY;
  const latencies = [];
  let errors = 0;
  let timeouts = 0;
  let non2xx = 0;
  let sent = 0;
  let answered = 0;
  const started = performance.now();
  return new Promise((resolve) => {
    const finishOne = () => {
      answered += 1;
      if (answered === total) {
        agent.destroy();
        const seconds = (performance.now() - measuredFrom) / 1000;
        const sorted = latencies.sort((a, b) => a - b);
        resolve({
          ...figures(sorted, total - warmupCount, seconds),
          errors: errors + timeouts + non2xx,
          warmup: {
            ...figures(
              warmupLatencies.sort((a, b) => a - b),
              warmupCount,
              warmup,
            ),
            errors: warmupErrors,
          },
        });
      }
    };
    const send = (index, due) => {
      const spec = requests[index % requests.length];
      const outgoing = request(new URL(spec.path, url), {
        method: spec.method,
        headers: spec.body
          ? { ...spec.headers, 'content-length': Buffer.byteLength(spec.body) }
          : spec.headers,
        agent,
        timeout: timeout * 1000,
      });
      const warming = index < warmupCount;
      outgoing.on('response', (response) => {
        response.resume();
        response.on('end', () => {
          const failed = response.statusCode < 200 || response.statusCode >= 300;
          if (warming) {
            if (failed) warmupErrors += 1;
            else warmupLatencies.push(performance.now() - due);
          } else if (failed) non2xx += 1;
          else latencies.push(performance.now() - due);
          finishOne();
        });
      });
      let timedOut = false;
      outgoing.on('timeout', () => {
        timedOut = true;
        if (warming) warmupErrors += 1;
        else timeouts += 1;
        outgoing.destroy();
      });
      outgoing.on('error', () => {
        if (!timedOut && warming) warmupErrors += 1;
        else if (!timedOut) errors += 1;
        finishOne();
      });
      outgoing.end(spec.body);
    };
    const tick = () => {
      const now = performance.now();
      while (sent < total && started + (sent * 1000) / rate <= now) {
        if (sent === warmupCount) measuredFrom = started + (sent * 1000) / rate;
        send(sent, started + (sent * 1000) / rate);
        sent += 1;
      }
      if (sent < total) setTimeout(tick, Math.max(0, started + (sent * 1000) / rate - performance.now()));
    };
    tick();
  });
}

process.once('message', async (options) => {
  const result = await run(options);
  process.send?.(result, () => process.exit(0));
});
