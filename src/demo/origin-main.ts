/**
 * One demo origin as its own process (`outpost demo` forks one per origin, so a user can kill one
 * and watch the edge fail over): `node origin-main.js <name> <region> <port>`.
 */
import { startDemoOrigin } from './origin.js';

const [name, region, port] = process.argv.slice(2);
const origin = await startDemoOrigin({ name, region, port: Number(port) });
process.send?.({ type: 'ready', url: origin.url });
const stop = () => void origin.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.on('disconnect', stop);
