// Shared by the real-n8n scripts (e2e-n8n.mjs, e2e-n8n-trigger.mjs): the Node 24 and n8n install under
// connectors/n8n/.n8n-e2e, a real qrflow server, the package copied into an n8n user folder, free ports.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// 2.41.1 exactly: 2.41.3 needs an @n8n/agents release the registry mirror here does not carry.
export const N8N_VERSION = process.env.N8N_VERSION ?? '2.41.1';
const NODE_VERSION = process.env.N8N_NODE_VERSION ?? '24';
export const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const repoRoot = path.resolve(packageDir, '../..');
/** Git-ignored: the Node 24 and n8n installs (kept between runs) and each run's user folders (removed). */
export const scratch = path.join(packageDir, '.n8n-e2e');
const nodeDir = path.join(scratch, 'node');
export const n8nDir = path.join(scratch, 'n8n');
export const node24 = path.join(nodeDir, 'node_modules', '.bin', 'node');
export const n8nBin = path.join(n8nDir, 'node_modules', 'n8n', 'bin', 'n8n');

export function log(message) {
	console.log(`[e2e:n8n] ${message}`);
}

/** Runs a command, streaming its output; resolves with its stdout. */
export function run(command, commandArgs, options = {}) {
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

export const withNode24 = () => ({
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

/** Node 24 and n8n under .n8n-e2e (first run: several minutes), then this package's dist/. */
export async function prepare({ build = true } = {}) {
	await installNode24();
	await installN8n();
	if (build) await run('npm', ['run', 'build'], { cwd: packageDir });
}

/** Starts a real qrflow server with a fresh workspace and API key (see scripts/qrflow-server.mts). */
export async function startQrflow() {
	const child = spawn('npx', ['tsx', path.join(packageDir, 'scripts', 'qrflow-server.mts')], {
		cwd: repoRoot,
		stdio: ['pipe', 'pipe', 'inherit'],
	});
	const closed = new Promise((resolve) => child.on('close', resolve));
	const ready = await new Promise((resolve, reject) => {
		let buffer = '';
		child.stdout.on('data', (chunk) => {
			buffer += chunk;
			const line = buffer.split('\n').find((entry) => entry.startsWith('{'));
			if (line) resolve(JSON.parse(line));
		});
		closed.then((code) => reject(new Error(`qrflow server exited early (${code})`)));
	});
	return {
		...ready,
		/** Closes its stdin (the server cleans its data dir and exits); resolves once it has exited. */
		stop: async () => {
			child.stdin.end();
			const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
			await closed;
			clearTimeout(timer);
		},
	};
}

/** Copies the built package into `<userFolder>/.n8n/nodes`, where n8n loads installed community packages. */
export function installPackageInto(userFolder) {
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

/** A fresh user folder for one run, under the scratch dir. */
export function makeUserFolder(name) {
	fs.mkdirSync(scratch, { recursive: true });
	return fs.mkdtempSync(path.join(scratch, `${name}-`));
}

/** The environment every n8n process here gets: its own folder and database, nothing phoned home. */
export function n8nEnv(userFolder, extra = {}) {
	return {
		...withNode24(),
		N8N_USER_FOLDER: userFolder,
		N8N_ENCRYPTION_KEY: 'e2e-only-encryption-key',
		DB_TYPE: 'sqlite',
		N8N_DIAGNOSTICS_ENABLED: 'false',
		N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
		N8N_TEMPLATES_ENABLED: 'false',
		N8N_PERSONALIZATION_ENABLED: 'false',
		N8N_HIRING_BANNER_ENABLED: 'false',
		// the MCP server registry refreshes itself from api.n8n.io; nothing here needs it
		N8N_DISABLED_MODULES: 'mcp-registry',
		// the Code node's task runners start anyway in n8n 2; the Python one needs a virtualenv
		N8N_PYTHON_ENABLED: 'false',
		N8N_COMMUNITY_PACKAGES_ENABLED: 'true',
		N8N_UNVERIFIED_PACKAGES_ENABLED: 'true',
		N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS: 'false',
		N8N_LOG_LEVEL: 'info',
		...extra,
	};
}

/** A port nothing listens on right now (127.0.0.1). */
export function freePort() {
	return new Promise((resolve, reject) => {
		const server = net.createServer();
		server.once('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const { port } = server.address();
			server.close(() => resolve(port));
		});
	});
}

/** Whether something accepts connections on 127.0.0.1:port. */
export function isListening(port) {
	return new Promise((resolve) => {
		const socket = net.connect({ host: '127.0.0.1', port });
		socket.once('connect', () => {
			socket.destroy();
			resolve(true);
		});
		socket.once('error', () => resolve(false));
	});
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
