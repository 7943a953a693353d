import { ScanEngineSimulator } from '../local/scan-engine-simulator';

/**
 * The scan bench's engine simulator in its own process, as the engines are on AWS: sends its URL
 * over IPC, then serves until told to stop.
 */
const simulator = new ScanEngineSimulator();
await simulator.start();
process.send?.({ url: simulator.url });
process.on('message', async () => {
  await simulator.stop();
  process.exit(0);
});
