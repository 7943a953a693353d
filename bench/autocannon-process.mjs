// Runs one autocannon load in its own process (plain Node: no TypeScript loader), so the load
// generator never shares the runtime's event loop: options arrive over IPC, the result goes back.
import autocannon from 'autocannon';

process.once('message', async (options) => {
  const result = await autocannon(options);
  process.send?.(result, () => process.exit(0));
});
