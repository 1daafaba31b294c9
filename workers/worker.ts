// Entry point of the worker process (`./ferry up` starts it in the background).
import { loadConfig } from '../temporal.config';
import { createFerryWorker } from './ferry-worker';

const ferry = await createFerryWorker(loadConfig());
await ferry.run();
