#!/usr/bin/env node
// Runs this package in a real n8n (2.41.x, on Node 24 from the npm `node` package) against a real qrflow server:
//   actions  `n8n execute` of the example workflow: Create QR Code -> Get Image -> Get Many (Return All)
//            (scripts/e2e-n8n-actions.mjs);
//   trigger  `n8n start` on 127.0.0.1 with the QRflow Trigger in webhook mode (a scan starts the workflow within
//            2 s) and in polling mode (within the one-minute interval) (scripts/e2e-n8n-trigger.mjs).
// Not part of `npm test` or .ci/run: the n8n install is about 3 GB and a run takes about two minutes.
// Usage: npm run e2e:n8n (from the repository root) or npm run -w connectors/n8n e2e:n8n
// Flags: --install-only (prepare n8n and stop), --only=actions|trigger, --keep (leave the run's n8n folders).
import { runActions } from './e2e-n8n-actions.mjs';
import { runTrigger } from './e2e-n8n-trigger.mjs';
import { N8N_VERSION, log, prepare } from './harness.mjs';

const args = process.argv.slice(2);
const only = args.find((arg) => arg.startsWith('--only='))?.slice('--only='.length);
const keep = args.includes('--keep');
if (only && only !== 'actions' && only !== 'trigger') {
	console.error('[e2e:n8n] --only takes actions or trigger');
	process.exit(2);
}

async function main() {
	const started = performance.now();
	await prepare({ build: !args.includes('--install-only') });
	if (args.includes('--install-only')) return log('n8n is installed; stopping as asked');

	const parts = [
		['actions', () => runActions({ keep })],
		['trigger', () => runTrigger({ keep })],
	].filter(([name]) => !only || name === only);
	const outcomes = [];
	for (const [name, part] of parts) {
		log(`--- ${name} ---`);
		const partStarted = performance.now();
		try {
			const result = await part();
			if (result?.cleanupError) throw new Error(`cleanup: ${result.cleanupError}`);
			outcomes.push({ name, ok: true, result, ms: performance.now() - partStarted });
		} catch (error) {
			console.error(`[e2e:n8n] FAIL (${name}): ${error.message}`);
			outcomes.push({ name, ok: false, error: error.message, result: error.results, ms: performance.now() - partStarted });
		}
	}
	summarize(outcomes, performance.now() - started);
	if (outcomes.some((outcome) => !outcome.ok)) process.exitCode = 1;
}

function summarize(outcomes, totalMs) {
	const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;
	const lines = [`summary (n8n ${N8N_VERSION}, ${process.platform}, ${seconds(totalMs)})`];
	for (const { name, ok, result, error, ms } of outcomes) {
		lines.push(`  ${ok ? 'PASS' : 'FAIL'} ${name} (${seconds(ms)})${ok ? '' : `: ${error}`}`);
		if (name === 'actions' && result) {
			lines.push(`       n8n execute ${seconds(result.executeMs)}: created ${result.created}, image ${result.image}, ${result.listed} code(s) listed`);
		}
		if (name === 'trigger' && result) {
			if (result.n8nReadyMs !== undefined) lines.push(`       n8n start -> ready: ${seconds(result.n8nReadyMs)}`);
			if (result.webhookRegisteredMs !== undefined) {
				lines.push(`       activation -> webhook on qrflow: ${result.webhookRegisteredMs} ms (the activation call answered in ${result.webhookActivateMs} ms)`);
			}
			if (result.webhookLatenciesMs?.length) {
				lines.push(`       scan -> webhook workflow running: ${result.webhookLatenciesMs.map((ms) => `${ms} ms`).join(', ')} (limit 2000 ms)`);
				const splits = result.webhookSplits?.filter((split) => split.qrflowMs !== undefined) ?? [];
				if (splits.length) {
					lines.push(`         of which qrflow (scan recorded, delivery queued and sent): ${splits.map((split) => `${split.qrflowMs} ms`).join(', ')}`);
					lines.push(`         and n8n (delivery received -> HTTP Request node ran): ${splits.map((split) => `${split.n8nMs} ms`).join(', ')}`);
				}
			}
			if (result.pollingLatenciesMs?.length) {
				lines.push(`       scan -> polling workflow running: ${result.pollingLatenciesMs.map(seconds).join(', ')} (every minute: the 2nd scan came just after a poll)`);
			}
			if (result.pollingIntervalMs !== undefined) lines.push(`       between the two polls: ${seconds(result.pollingIntervalMs)}`);
			if (result.webhookRemovedMs !== undefined) {
				lines.push(`       deactivation -> webhook gone from qrflow: ${result.webhookRemovedMs} ms (answered in ${result.webhookDeactivateMs} ms)`);
			}
			const passed = result.checks?.filter((entry) => entry.ok).length ?? 0;
			lines.push(`       checks passed: ${passed}/${result.checks?.length ?? 0}`);
		}
	}
	for (const line of lines) log(line);
}

main().catch((error) => {
	console.error(`[e2e:n8n] FAIL: ${error.message}`);
	process.exit(1);
});
