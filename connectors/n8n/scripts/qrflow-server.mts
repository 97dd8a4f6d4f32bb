// Starts a real qrflow server for scripts/e2e-n8n.mjs: prints {"baseUrl", "secret"} on one line,
// then serves until its standard input closes.
import { startTestServer } from '../../../test/helpers/server.js';

const server = await startTestServer();
const { secret } = await server.createKey({ name: 'n8n-e2e' });
console.log(JSON.stringify({ baseUrl: server.baseUrl, secret }));
process.stdin.resume();
process.stdin.on('end', async () => {
	await server.cleanup();
	process.exit(0);
});
