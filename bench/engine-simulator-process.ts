import { ScanEngineSimulator } from '../local/scan-engine-simulator';
import { serveBench } from './serve-bench';

/**
 * The scan bench's engine simulator in its own process, as the engines are on AWS (see serveBench).
 */
const simulator = new ScanEngineSimulator();
await simulator.start();
serveBench({ url: simulator.url }, () => simulator.stop());
