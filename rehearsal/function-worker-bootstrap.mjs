// A worker thread has no TypeScript loader of its own: register tsx, then load the worker.
import { register } from 'tsx/esm/api';

register();
await import('./function-worker.ts');
