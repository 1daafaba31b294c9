// Entry point of the worker process (`./ferry up` starts it in the background).
import { loadConfig } from '../temporal.config';
import { createFerryWorker } from './ferry-worker';

const ferry = await createFerryWorker(loadConfig());
if (ferry.healthPort !== undefined)
  console.log(`Ferry worker answers /healthz and /readyz on port ${ferry.healthPort}`);
await ferry.run();
