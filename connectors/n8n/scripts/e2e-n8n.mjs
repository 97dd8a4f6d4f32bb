#!/usr/bin/env node
// Loads this package into a real n8n (2.41.x, on Node 24 from the npm `node` package) and runs a
// workflow against a real qrflow server: Create QR Code -> Get Image -> Get Many (Return All).
// Not part of `npm test`: the n8n install is about 3 GB. Usage: npm run -w connectors/n8n e2e:n8n
// Flags: --install-only (prepare n8n and stop), --keep (leave the temp n8n folder for inspection).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// 2.41.1 exactly: 2.41.3 needs an @n8n/agents release the registry mirror here does not carry.
const N8N_VERSION = process.env.N8N_VERSION ?? '2.41.1';
const NODE_VERSION = process.env.N8N_NODE_VERSION ?? '24';
const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = path.resolve(packageDir, '../..');
const scratch = path.join(packageDir, '.n8n-e2e');
const nodeDir = path.join(scratch, 'node');
const n8nDir = path.join(scratch, 'n8n');
const node24 = path.join(nodeDir, 'node_modules', '.bin', 'node');
const n8nBin = path.join(n8nDir, 'node_modules', 'n8n', 'bin', 'n8n');
const args = new Set(process.argv.slice(2));

function log(message) {
	console.log(`[e2e:n8n] ${message}`);
}

/** Runs a command, streaming its output; resolves with its stdout. */
function run(command, commandArgs, options = {}) {
	return new Promise((resolve, reject) => {
		log(`$ ${command} ${commandArgs.join(' ')}`);
		const child = spawn(command, commandArgs, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
		let stdout = '';
		child.stdout.on('data', (chunk) => {
			stdout += chunk;
			if (!options.quiet) process.stdout.write(chunk);
		});
		child.stderr.on('data', (chunk) => process.stderr.write(chunk));
		child.on('error', reject);
		child.on('close', (code) =>
			code === 0 ? resolve(stdout) : reject(new Error(`${command} exited with ${code}`)),
		);
	});
}

const withNode24 = () => ({
	...process.env,
	PATH: `${path.dirname(node24)}:${process.env.PATH}`,
	npm_config_yes: 'true',
	// the repository's .npmrc turns install scripts off; the node package and the sqlite3 rebuild need them
	npm_config_ignore_scripts: 'false',
	npm_config_fund: 'false',
	npm_config_audit: 'false',
});

async function installNode24() {
	if (fs.existsSync(node24)) return;
	fs.mkdirSync(nodeDir, { recursive: true });
	fs.writeFileSync(path.join(nodeDir, 'package.json'), '{"private": true}\n');
	// The `node` package fetches its platform binary in a preinstall script, so scripts stay on here.
	await run('npm', ['install', `node@${NODE_VERSION}`], { cwd: nodeDir, env: withNode24() });
}

async function installN8n() {
	if (fs.existsSync(n8nBin)) return;
	fs.mkdirSync(n8nDir, { recursive: true });
	fs.writeFileSync(path.join(n8nDir, 'package.json'), '{"private": true}\n');
	// Install scripts would try to download prebuilt binaries, which this network cannot reach.
	await run('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', `n8n@${N8N_VERSION}`], {
		cwd: n8nDir,
		env: withNode24(),
	});
	// sqlite3 is N-API, so building it from source here yields a binary Node 24 can load.
	await run('npm', ['rebuild', 'sqlite3'], { cwd: n8nDir, env: withNode24() });
}

/** Starts a real qrflow server with a fresh workspace and API key (see scripts/qrflow-server.mts). */
async function startQrflow() {
	const child = spawn('npx', ['tsx', path.join(packageDir, 'scripts', 'qrflow-server.mts')], {
		cwd: repoRoot,
		stdio: ['pipe', 'pipe', 'inherit'],
	});
	const ready = await new Promise((resolve, reject) => {
		let buffer = '';
		child.stdout.on('data', (chunk) => {
			buffer += chunk;
			const line = buffer.split('\n').find((entry) => entry.startsWith('{'));
			if (line) resolve(JSON.parse(line));
		});
		child.on('close', (code) => reject(new Error(`qrflow server exited early (${code})`)));
	});
	return { ...ready, stop: () => child.stdin.end() };
}

function installPackageInto(userFolder) {
	const target = path.join(userFolder, '.n8n', 'nodes', 'node_modules', 'n8n-nodes-qrflow');
	fs.mkdirSync(target, { recursive: true });
	fs.cpSync(path.join(packageDir, 'dist'), path.join(target, 'dist'), { recursive: true });
	fs.copyFileSync(path.join(packageDir, 'package.json'), path.join(target, 'package.json'));
	// The peer dependency: n8n's own copy, as npm would link it for an installed community package.
	fs.symlinkSync(
		path.join(n8nDir, 'node_modules', 'n8n-workflow'),
		path.join(userFolder, '.n8n', 'nodes', 'node_modules', 'n8n-workflow'),
	);
	fs.writeFileSync(
		path.join(userFolder, '.n8n', 'nodes', 'package.json'),
		JSON.stringify({ name: 'installed-nodes', private: true, dependencies: { 'n8n-nodes-qrflow': '*' } }),
	);
}

async function main() {
	await installNode24();
	await installN8n();
	if (args.has('--install-only')) return log('n8n is installed; stopping as asked');

	await run('npm', ['run', 'build'], { cwd: packageDir });
	const userFolder = fs.mkdtempSync(path.join(os.tmpdir(), 'qrflow-n8n-'));
	installPackageInto(userFolder);
	const qrflow = await startQrflow();
	log(`qrflow server at ${qrflow.baseUrl}; n8n user folder ${userFolder}`);

	const env = {
		...withNode24(),
		N8N_USER_FOLDER: userFolder,
		N8N_ENCRYPTION_KEY: 'e2e-only-encryption-key',
		DB_TYPE: 'sqlite',
		N8N_DIAGNOSTICS_ENABLED: 'false',
		N8N_RUNNERS_ENABLED: 'false',
		N8N_COMMUNITY_PACKAGES_ENABLED: 'true',
		N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS: 'false',
		// `n8n execute` prints the run data through its logger at info level.
		N8N_LOG_LEVEL: 'info',
	};
	const n8n = (...n8nArgs) => run(node24, [n8nBin, ...n8nArgs], { env, cwd: userFolder });
	try {
		const credentialFile = path.join(userFolder, 'credentials.json');
		fs.writeFileSync(
			credentialFile,
			JSON.stringify([
				{
					id: 'qrflowE2eCred01',
					name: 'QRflow e2e',
					type: 'qrflowApi',
					data: { apiKey: qrflow.secret, baseUrl: qrflow.baseUrl },
				},
			]),
		);
		await n8n('import:credentials', `--input=${credentialFile}`);

		const workflow = JSON.parse(
			fs.readFileSync(path.join(packageDir, 'examples', 'create-list-image.workflow.json'), 'utf8'),
		);
		for (const workflowNode of workflow.nodes) {
			if (workflowNode.credentials?.qrflowApi) {
				workflowNode.credentials.qrflowApi = { id: 'qrflowE2eCred01', name: 'QRflow e2e' };
			}
		}
		const workflowFile = path.join(userFolder, 'workflow.json');
		fs.writeFileSync(workflowFile, JSON.stringify({ ...workflow, id: 'qrflowE2eFlow01', active: false }));
		await n8n('import:workflow', `--input=${workflowFile}`);

		const output = await n8n('execute', '--id=qrflowE2eFlow01');
		await verify(output, qrflow);
		log('PASS: the workflow created a code, rendered its image and listed all codes in a real n8n');
	} finally {
		qrflow.stop();
		if (!args.has('--keep')) fs.rmSync(userFolder, { recursive: true, force: true });
	}
}

/** Checks n8n's run data and the server's own view of the codes. */
async function verify(output, qrflow) {
	// n8n prints a few status lines, then the execution as pretty-printed JSON starting on a line "{".
	const start = output.search(/^\{$/m);
	if (start < 0) throw new Error('n8n printed no run data');
	const result = JSON.parse(output.slice(start));
	const runData = result.data?.resultData?.runData ?? {};
	const first = (name) => runData[name]?.[0]?.data?.main?.[0] ?? [];
	const created = first('Create QR Code')[0]?.json;
	if (!created?.id?.startsWith('qr_')) throw new Error(`Create QR Code returned ${JSON.stringify(created)}`);
	const image = first('Get QR Code Image')[0];
	if (image?.binary?.qrImage?.mimeType !== 'image/png') throw new Error('Get QR Code Image returned no PNG');
	const listed = first('Get All QR Codes').map((item) => item.json.id);
	if (!listed.includes(created.id)) throw new Error(`Get All QR Codes missed ${created.id}: ${listed}`);
	if (result.data?.resultData?.error) throw new Error(JSON.stringify(result.data.resultData.error));

	const response = await fetch(`${qrflow.baseUrl}/api/v1/qr/${created.id}`, {
		headers: { authorization: `Bearer ${qrflow.secret}` },
	});
	if (response.status !== 200) throw new Error(`the server does not know ${created.id}`);
	log(`created ${created.id}; listed ${listed.length} codes; image ${image.binary.qrImage.fileSize}`);
}

main().catch((error) => {
	console.error(`[e2e:n8n] FAIL: ${error.message}`);
	process.exit(1);
});
