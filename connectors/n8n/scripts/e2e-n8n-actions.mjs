// The action nodes in a real n8n: `n8n execute` runs the example workflow (Create QR Code -> Get Image ->
// Get Many, Return All) against a real qrflow server, then the run data and the server are checked.
import fs from 'node:fs';
import path from 'node:path';
import { installPackageInto, log, makeUserFolder, n8nBin, n8nEnv, node24, packageDir, run, startQrflow } from './harness.mjs';

/** Resolves with what was measured; throws on any failure. */
export async function runActions({ keep = false } = {}) {
	const userFolder = makeUserFolder('actions');
	installPackageInto(userFolder);
	const qrflow = await startQrflow();
	log(`qrflow server at ${qrflow.baseUrl}; n8n user folder ${userFolder}`);

	// `n8n execute` prints the run data through its logger at info level.
	const env = n8nEnv(userFolder);
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

		const started = performance.now();
		const output = await n8n('execute', '--id=qrflowE2eFlow01');
		const result = await verify(output, qrflow);
		log('PASS: the workflow created a code, rendered its image and listed all codes in a real n8n');
		return { ...result, executeMs: Math.round(performance.now() - started) };
	} finally {
		await qrflow.stop();
		if (!keep) fs.rmSync(userFolder, { recursive: true, force: true });
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
	return { created: created.id, listed: listed.length, image: image.binary.qrImage.fileSize };
}
