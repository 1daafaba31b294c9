// Entry point of the API process (`./ferry up` starts it in the background).
import { loadConfig } from '../temporal.config';
import { startFerryApi } from './ferry-api';

const config = loadConfig();
const api = await startFerryApi(config, (line) => console.log(`${new Date().toISOString()} ${line}`));
console.log(`Ferry API on http://${config.api.host}:${config.api.port}/client/api`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void api.close().then(() => process.exit(0)));
}
