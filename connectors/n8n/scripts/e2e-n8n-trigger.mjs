// The QRflow Trigger in a real, running n8n: `n8n start` on 127.0.0.1 and a free port, N8N_WEBHOOK_URL (n8n 2's
// name for WEBHOOK_URL) on loopback, its own user folder and SQLite database under .n8n-e2e, the owner set up
// through n8n's REST API (POST /rest/owner/setup), then credential, workflows, activation and deactivation
// through the same API the editor uses.
//   1. webhook mode: activating the workflow registers its webhook on qrflow (checked in qrflow's list); real
//      scans (GET /r/:code) start the workflow within 2 s; a delivery with a wrong signature is refused;
//      deactivating it removes the webhook from qrflow, and a scan then starts nothing;
//   2. polling mode, every minute (n8n refuses anything shorter): a scan after activation starts the workflow
//      at the next poll, within the interval; a scan just after a poll, one interval later.
// Each workflow is QRflow Trigger -> HTTP Request, which posts the item to a listener here: the time a report
// arrives is when the workflow ran, and its body is the item the trigger produced.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import {
	freePort,
	installPackageInto,
	isListening,
	log,
	makeUserFolder,
	n8nBin,
	n8nEnv,
	node24,
	sleep,
	startQrflow,
} from './harness.mjs';

/** The issue's figure: a scan starts the webhook-mode workflow within this. */
const WEBHOOK_LIMIT_MS = 2000;
/** n8n's shortest poll interval ("Every Minute"; a cron with a "*" in the seconds field is refused). */
const POLL_INTERVAL_MS = 60_000;
/** Room for the poll's request and the execution after the tick. */
const POLL_SLACK_MS = 5000;
const SCANS = 3;
const BROWSER_UA =
	'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1';
const OWNER = { email: 'owner@qrflow-e2e.test', firstName: 'E2e', lastName: 'Owner', password: 'E2e-owner-password-1' };

/** Receives the workflows' reports: POST /hit/<name> with the item as JSON. */
async function startReportListener() {
	const hits = [];
	const waiters = new Set();
	const server = http.createServer((request, response) => {
		const chunks = [];
		request.on('data', (chunk) => chunks.push(chunk));
		request.on('end', () => {
			const at = performance.now();
			let body = null;
			try {
				body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
			} catch {
				body = Buffer.concat(chunks).toString('utf8');
			}
			const hit = { name: request.url.replace(/^\/hit\//, ''), body, at, wallClock: new Date() };
			hits.push(hit);
			for (const waiter of waiters) waiter(hit);
			response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
		});
	});
	await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
	const { port } = server.address();
	return {
		url: (name) => `http://127.0.0.1:${port}/hit/${name}`,
		hits,
		/** The first report (already here or still to come) that `match` accepts, or null after `timeoutMs`. */
		waitFor(match, timeoutMs) {
			const found = hits.find(match);
			if (found) return Promise.resolve(found);
			return new Promise((resolve) => {
				const done = (hit) => {
					if (hit && !match(hit)) return;
					waiters.delete(done);
					clearTimeout(timer);
					resolve(hit ?? null);
				};
				const timer = setTimeout(() => done(null), timeoutMs);
				waiters.add(done);
			});
		},
		close: () => new Promise((resolve) => server.close(resolve)),
	};
}

/** `n8n start` in its own process group (so its children stop with it), output to a log file. */
async function startN8n(userFolder) {
	const port = await freePort();
	const brokerPort = await freePort();
	const logFile = path.join(userFolder, 'n8n.log');
	const out = fs.openSync(logFile, 'a');
	const env = n8nEnv(userFolder, {
		N8N_LISTEN_ADDRESS: '127.0.0.1',
		N8N_HOST: '127.0.0.1',
		N8N_PORT: String(port),
		N8N_PROTOCOL: 'http',
		// WEBHOOK_URL's name since n8n 2 (the old name still works, with a deprecation warning)
		N8N_WEBHOOK_URL: `http://127.0.0.1:${port}/`,
		N8N_EDITOR_BASE_URL: `http://127.0.0.1:${port}/`,
		N8N_SECURE_COOKIE: 'false',
		N8N_RUNNERS_BROKER_PORT: String(brokerPort),
		N8N_RUNNERS_BROKER_LISTEN_ADDRESS: '127.0.0.1',
		N8N_GRACEFUL_SHUTDOWN_TIMEOUT: '10',
		EXECUTIONS_MODE: 'regular',
		QUEUE_HEALTH_CHECK_ACTIVE: 'false',
	});
	log(`$ n8n start (127.0.0.1:${port}, N8N_WEBHOOK_URL http://127.0.0.1:${port}/, log ${logFile})`);
	const started = performance.now();
	const child = spawn(node24, [n8nBin, 'start'], { cwd: userFolder, env, detached: true, stdio: ['ignore', out, out] });
	fs.closeSync(out);
	// n8n has its own process group, so a Ctrl-C here does not reach it: take it down on the way out
	const killGroup = () => {
		try {
			process.kill(-child.pid, 'SIGKILL');
		} catch {}
	};
	const onSignal = (signal) => {
		killGroup();
		process.exit(signal === 'SIGINT' ? 130 : 143);
	};
	process.on('exit', killGroup);
	process.once('SIGINT', onSignal);
	process.once('SIGTERM', onSignal);
	let exitCode = null;
	const exited = new Promise((resolve) =>
		child.on('exit', (code, signal) => {
			exitCode = code ?? signal;
			resolve();
		}),
	);
	const base = `http://127.0.0.1:${port}`;
	const tail = () => fs.readFileSync(logFile, 'utf8').split('\n').slice(-40).join('\n');
	const stop = async () => {
		if (exitCode === null) {
			try {
				process.kill(-child.pid, 'SIGTERM');
			} catch {}
			const timer = setTimeout(() => {
				try {
					process.kill(-child.pid, 'SIGKILL');
				} catch {}
			}, 20_000);
			await exited;
			clearTimeout(timer);
		}
		// the task runner n8n starts is in its process group: nothing of the group may outlive it
		let groupAlive = true;
		for (let waited = 0; groupAlive && waited < 50; waited++) {
			try {
				process.kill(-child.pid, 0);
				await sleep(100);
			} catch {
				groupAlive = false;
			}
		}
		if (groupAlive) {
			process.kill(-child.pid, 'SIGKILL');
			throw new Error(`n8n's process group ${child.pid} outlived it (killed)`);
		}
		for (const used of [port, brokerPort]) {
			for (let waited = 0; (await isListening(used)) && waited < 50; waited++) await sleep(100);
			if (await isListening(used)) throw new Error(`port ${used} still answers after n8n stopped`);
		}
		process.off('exit', killGroup);
		process.off('SIGINT', onSignal);
		process.off('SIGTERM', onSignal);
		log(`n8n stopped (exit ${exitCode}); ports ${port} and ${brokerPort} free, no process of its group left`);
	};
	for (;;) {
		if (exitCode !== null) throw new Error(`n8n exited during start-up (${exitCode}):\n${tail()}`);
		if (performance.now() - started > 180_000) {
			await stop();
			throw new Error(`n8n was not ready after 180 s:\n${tail()}`);
		}
		try {
			const response = await fetch(`${base}/healthz/readiness`);
			if (response.status === 200) break;
		} catch {}
		await sleep(250);
	}
	const readyMs = Math.round(performance.now() - started);
	log(`n8n ready in ${(readyMs / 1000).toFixed(1)} s`);
	return { base, port, brokerPort, readyMs, stop, tail, pid: child.pid, exited: () => exitCode !== null };
}

/** n8n's REST API as its editor uses it: the owner's session cookie, and a browser id bound to it. */
function n8nRest(base) {
	let cookie = '';
	const browserId = randomUUID();
	const call = async (method, urlPath, body) => {
		const response = await fetch(`${base}/rest${urlPath}`, {
			method,
			headers: {
				'browser-id': browserId,
				...(cookie ? { cookie } : {}),
				...(body !== undefined ? { 'content-type': 'application/json' } : {}),
			},
			...(body !== undefined ? { body: JSON.stringify(body) } : {}),
		});
		const auth = response.headers.getSetCookie().find((entry) => entry.startsWith('n8n-auth='));
		if (auth) cookie = auth.split(';')[0];
		const text = await response.text();
		if (!response.ok) throw new Error(`n8n ${method} /rest${urlPath} answered ${response.status}: ${text.slice(0, 500)}`);
		const json = text ? JSON.parse(text) : {};
		return json.data ?? json;
	};
	return { call };
}

/** qrflow's API with the run's key. */
function qrflowApi(qrflow) {
	return async (method, urlPath, body) => {
		const response = await fetch(`${qrflow.baseUrl}${urlPath}`, {
			method,
			headers: {
				authorization: `Bearer ${qrflow.secret}`,
				...(body !== undefined ? { 'content-type': 'application/json' } : {}),
			},
			...(body !== undefined ? { body: JSON.stringify(body) } : {}),
		});
		const json = await response.json();
		if (!response.ok) throw new Error(`qrflow ${method} ${urlPath} answered ${response.status}: ${JSON.stringify(json)}`);
		return json.data;
	};
}

/** QRflow Trigger (with `parameters`) -> HTTP Request that posts the item to `reportUrl`. */
function triggerWorkflow(name, parameters, credential, reportUrl) {
	return {
		name,
		nodes: [
			{
				id: randomUUID(),
				name: 'QRflow Trigger',
				type: 'n8n-nodes-qrflow.qrFlowTrigger',
				typeVersion: 1,
				position: [0, 0],
				webhookId: randomUUID(),
				parameters,
				credentials: { qrflowApi: credential },
			},
			{
				id: randomUUID(),
				name: 'Report',
				type: 'n8n-nodes-base.httpRequest',
				typeVersion: 4.2,
				position: [240, 0],
				parameters: {
					method: 'POST',
					url: reportUrl,
					sendBody: true,
					specifyBody: 'json',
					jsonBody: '={{ JSON.stringify($json) }}',
					options: {},
				},
			},
		],
		connections: { 'QRflow Trigger': { main: [[{ node: 'Report', type: 'main', index: 0 }]] } },
		settings: { executionOrder: 'v1' },
	};
}

async function activate(n8n, workflow) {
	const started = performance.now();
	await n8n.call('POST', `/workflows/${workflow.id}/activate`, { versionId: workflow.versionId });
	// the editor's "Publish"; it answers once the workflow is marked active
	return Math.round(performance.now() - started);
}

/** One real scan of the code, as a phone's browser makes it; resolves when the redirect has been answered. */
async function scan(qrflow, code) {
	const started = performance.now();
	const response = await fetch(`${qrflow.baseUrl}/r/${code.short_code}`, {
		redirect: 'manual',
		headers: { 'user-agent': BROWSER_UA, 'accept-language': 'de-DE,de;q=0.9' },
	});
	await response.arrayBuffer();
	if (response.status !== 302 && response.status !== 301) throw new Error(`scan answered ${response.status}`);
	return started;
}

/** The workflow's executions as n8n recorded them. */
async function executionsOf(n8n, workflowId) {
	const filter = encodeURIComponent(JSON.stringify({ workflowId }));
	const answer = await n8n.call('GET', `/executions?filter=${filter}&limit=50`);
	return answer.results ?? answer;
}

/** Resolves with what was measured; throws on the first failure (after stopping everything). */
export async function runTrigger({ keep = false } = {}) {
	const userFolder = makeUserFolder('trigger');
	installPackageInto(userFolder);
	const results = { checks: [] };
	const check = (ok, message) => {
		results.checks.push({ ok, message });
		log(`${ok ? 'ok  ' : 'FAIL'} ${message}`);
		if (!ok) throw new Error(message);
	};
	const cleanups = [];
	let n8nProcess;
	try {
		const qrflow = await startQrflow();
		cleanups.push(() => qrflow.stop());
		const api = qrflowApi(qrflow);
		const reports = await startReportListener();
		cleanups.push(() => reports.close());
		log(`qrflow server at ${qrflow.baseUrl}; n8n user folder ${userFolder}`);

		n8nProcess = await startN8n(userFolder);
		cleanups.push(() => n8nProcess.stop());
		results.n8nReadyMs = n8nProcess.readyMs;
		const n8n = n8nRest(n8nProcess.base);
		await n8n.call('POST', '/owner/setup', OWNER);
		log(`owner ${OWNER.email} set up through POST /rest/owner/setup`);
		const credential = await n8n.call('POST', '/credentials', {
			name: 'QRflow e2e',
			type: 'qrflowApi',
			data: { apiKey: qrflow.secret, baseUrl: qrflow.baseUrl },
		});

		const code = await api('POST', '/api/v1/qr', { name: 'n8n e2e flyer', destination_url: 'https://example.com/flyer' });
		log(`code ${code.id} (/r/${code.short_code})`);

		// 1. webhook mode
		const created = await n8n.call(
			'POST',
			'/workflows',
			triggerWorkflow(
				'QRflow e2e: webhook',
				{ triggerMode: 'webhook', events: ['qr.scanned'] },
				{ id: credential.id, name: credential.name },
				reports.url('webhook'),
			),
		);
		const webhookNode = created.nodes.find((entry) => entry.name === 'QRflow Trigger');
		const expectedUrl = `${n8nProcess.base}/webhook/${webhookNode.webhookId}/webhook`;
		const activationStarted = performance.now();
		results.webhookActivateMs = await activate(n8n, created);
		// n8n answers the activation before the trigger's create hook has finished: wait for the subscription
		let hooks = [];
		for (;;) {
			hooks = await api('GET', '/api/v1/webhooks');
			if (hooks.length > 0 || performance.now() - activationStarted > 10_000) break;
			await sleep(20);
		}
		results.webhookRegisteredMs = Math.round(performance.now() - activationStarted);
		const hook = hooks.find((entry) => entry.url === expectedUrl);
		check(
			hooks.length === 1 && hook?.status === 'active' && JSON.stringify(hook.events) === '["qr.scanned"]',
			`activation (answered in ${results.webhookActivateMs} ms) registered ${expectedUrl} for qr.scanned on qrflow within ${results.webhookRegisteredMs} ms (${hooks.length} webhook(s): ${hooks.map((entry) => `${entry.id} ${entry.url}`).join(', ')})`,
		);

		results.webhookLatenciesMs = [];
		const scanTimes = [];
		for (let n = 0; n < SCANS; n++) {
			const seen = reports.hits.length;
			const wallClock = Date.now();
			const started = await scan(qrflow, code);
			const hit = await reports.waitFor((entry) => entry.name === 'webhook' && reports.hits.indexOf(entry) >= seen, 10_000);
			if (!hit) check(false, `scan ${n + 1}: the webhook workflow did not run within 10 s`);
			const latency = Math.round(hit.at - started);
			results.webhookLatenciesMs.push(latency);
			check(
				hit.body?.type === 'qr.scanned' && hit.body?.data?.qr_id === code.id && hit.body?.data?.is_bot === false,
				`scan ${n + 1}: the item is the qr.scanned event of ${code.id} (${hit.body?.id}, ${hit.body?.data?.device}/${hit.body?.data?.os})`,
			);
			check(latency <= WEBHOOK_LIMIT_MS, `scan ${n + 1} -> workflow started in ${latency} ms (limit ${WEBHOOK_LIMIT_MS} ms)`);
			scanTimes.push({ eventId: hit.body.id, scannedAt: wallClock, ranAt: hit.wallClock.getTime(), latency });
			await sleep(300);
		}
		// where the time went, from qrflow's delivery log: scan -> delivery sent (qrflow), sent -> workflow ran (n8n)
		const attempts = await api('GET', `/api/v1/webhooks/${hook.id}/deliveries`);
		results.webhookSplits = scanTimes.map(({ eventId, scannedAt, ranAt, latency }) => {
			const attempt = (Array.isArray(attempts) ? attempts : []).find((entry) => entry.event_id === eventId);
			if (!attempt) return { latency };
			const sentAt = Date.parse(attempt.attempted_at);
			return { latency, qrflowMs: sentAt - scannedAt, n8nMs: ranAt - sentAt, answeredMs: attempt.duration_ms };
		});
		log(
			`  split: ${results.webhookSplits
				.map((split) => (split.qrflowMs === undefined ? `${split.latency} ms` : `${split.latency} ms = qrflow ${split.qrflowMs} + n8n ${split.n8nMs} (n8n answered the delivery in ${split.answeredMs} ms)`))
				.join('; ')}`,
		);
		// n8n saves an execution's record after its last node; give it a moment
		let executions = [];
		for (let waited = 0; waited < 20; waited++) {
			executions = await executionsOf(n8n, created.id);
			if (executions.length >= SCANS && executions.every((entry) => entry.status !== 'running' && entry.status !== 'new')) break;
			await sleep(250);
		}
		check(
			executions.length === SCANS && executions.every((entry) => entry.status === 'success' && entry.mode === 'webhook'),
			`n8n recorded ${executions.length} webhook executions: ${executions.map((entry) => `${entry.id} ${entry.mode} ${entry.status}`).join(', ')}`,
		);

		// a delivery without qrflow's signature is refused by the node and starts nothing
		const seenBeforeForged = reports.hits.length;
		const forged = await fetch(expectedUrl, {
			method: 'POST',
			headers: { 'content-type': 'application/json', 'qrflow-signature': `t=${Math.floor(Date.now() / 1000)},v1=${'0'.repeat(64)}` },
			body: JSON.stringify({ id: 'evt_forged', type: 'qr.scanned', data: { qr_id: code.id } }),
		});
		const forgedBody = await forged.text();
		const forgedHit = await reports.waitFor((entry) => entry.name === 'webhook' && reports.hits.indexOf(entry) >= seenBeforeForged, 1500);
		check(
			forged.status === 401 && forgedHit === null,
			`a delivery with a wrong signature is answered ${forged.status} (${forgedBody.slice(0, 80)}) and starts nothing`,
		);

		// 2. polling mode
		const polling = await n8n.call(
			'POST',
			'/workflows',
			triggerWorkflow(
				'QRflow e2e: polling',
				{ triggerMode: 'polling', pollEvent: 'qr.scanned', pollTimes: { item: [{ mode: 'everyMinute' }] } },
				{ id: credential.id, name: credential.name },
				reports.url('polling'),
			),
		);
		results.pollingActivateMs = await activate(n8n, polling);
		const hooksAfterPolling = await api('GET', '/api/v1/webhooks');
		check(hooksAfterPolling.length === 1, `activating the polling workflow (${results.pollingActivateMs} ms) registered no webhook`);
		await sleep(1000); // the first poll (at activation) only notes "now"
		/** A scan, then the poll that reports it: the item must be the event the webhook delivered too. */
		const pollRound = async (round) => {
			const seen = reports.hits.length;
			const started = await scan(qrflow, code);
			const delivered = await reports.waitFor((entry) => entry.name === 'webhook' && reports.hits.indexOf(entry) >= seen, 10_000);
			const polled = await reports.waitFor(
				(entry) => entry.name === 'polling' && reports.hits.indexOf(entry) >= seen,
				POLL_INTERVAL_MS + POLL_SLACK_MS + 2000,
			);
			if (!polled) check(false, `poll ${round}: the polling workflow did not run within ${(POLL_INTERVAL_MS + POLL_SLACK_MS) / 1000} s of the scan`);
			const latency = Math.round(polled.at - started);
			check(
				polled.body?.type === 'qr.scanned' && polled.body?.data?.qr_id === code.id && polled.body?.id === delivered?.body?.id,
				`poll ${round}: the item is the scan's event ${polled.body?.id} (the webhook delivered ${delivered?.body?.id})`,
			);
			check(
				latency <= POLL_INTERVAL_MS + POLL_SLACK_MS,
				`poll ${round}: scan -> polling workflow started in ${(latency / 1000).toFixed(1)} s, at ${polled.wallClock.toISOString()} (interval ${POLL_INTERVAL_MS / 1000} s)`,
			);
			return { latency, polled, seen };
		};
		// round 1: a scan soon after activation, picked up at the next tick (somewhere in the coming minute);
		// round 2: a scan just after a tick, the worst case: picked up one whole interval later
		const first = await pollRound(1);
		const second = await pollRound(2);
		results.pollingLatenciesMs = [first.latency, second.latency];
		results.pollingIntervalMs = Math.round(second.polled.at - first.polled.at);
		check(
			// the ticks are a minute apart; each report arrives after a poll request and an execution, which jitter
			Math.abs(results.pollingIntervalMs - POLL_INTERVAL_MS) <= POLL_SLACK_MS,
			`the two polls ran ${(results.pollingIntervalMs / 1000).toFixed(1)} s apart (every minute)`,
		);
		await sleep(500);
		const pollingHits = reports.hits.filter((entry) => entry.name === 'polling');
		check(
			pollingHits.length === 2,
			`the polls emitted ${pollingHits.length} items for 2 scans (no replay of the ${SCANS} scans before activation, none twice)`,
		);
		let pollExecutions = [];
		for (let waited = 0; waited < 20; waited++) {
			pollExecutions = await executionsOf(n8n, polling.id);
			if (pollExecutions.length >= 2 && pollExecutions.every((entry) => entry.status === 'success')) break;
			await sleep(250);
		}
		check(
			pollExecutions.length === 2 && pollExecutions.every((entry) => entry.status === 'success' && entry.mode === 'trigger'),
			`n8n recorded the polls' executions: ${pollExecutions.map((entry) => `${entry.id} ${entry.mode} ${entry.status}`).join(', ')}`,
		);

		// 3. deactivation
		let started = performance.now();
		await n8n.call('POST', `/workflows/${created.id}/deactivate`, {});
		results.webhookDeactivateMs = Math.round(performance.now() - started);
		let hooksAfter = [];
		for (;;) {
			hooksAfter = await api('GET', '/api/v1/webhooks');
			if (hooksAfter.length === 0 || performance.now() - started > 10_000) break;
			await sleep(20);
		}
		results.webhookRemovedMs = Math.round(performance.now() - started);
		check(
			hooksAfter.length === 0,
			`deactivation (answered in ${results.webhookDeactivateMs} ms) removed the webhook from qrflow within ${results.webhookRemovedMs} ms (${hooksAfter.length} left)`,
		);
		const seenBeforeLast = reports.hits.length;
		await scan(qrflow, code);
		const late = await reports.waitFor((entry) => entry.name === 'webhook' && reports.hits.indexOf(entry) >= seenBeforeLast, 3000);
		check(late === null, 'a scan after deactivation starts no webhook workflow (waited 3 s)');
		started = performance.now();
		await n8n.call('POST', `/workflows/${polling.id}/deactivate`, {});
		results.pollingDeactivateMs = Math.round(performance.now() - started);
		check(true, `the polling workflow deactivated (${results.pollingDeactivateMs} ms)`);
		return results;
	} catch (error) {
		if (n8nProcess) console.error(`[e2e:n8n] the end of n8n's log:\n${n8nProcess.tail()}`);
		error.results = results;
		throw error;
	} finally {
		for (const cleanup of cleanups.reverse()) {
			try {
				await cleanup();
			} catch (error) {
				log(`cleanup failed: ${error.message}`);
				results.cleanupError = error.message;
			}
		}
		if (!keep) fs.rmSync(userFolder, { recursive: true, force: true });
		else log(`kept ${userFolder}`);
	}
}
