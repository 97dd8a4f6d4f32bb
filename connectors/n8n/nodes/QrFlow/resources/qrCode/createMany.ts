import type { IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';
import { smartBody, type ErrorTarget } from '../../shared/smart';
import { asNodeError, qrflowApiRequest, toQrFlowApiError } from '../../shared/transport';

/** The server's limit per `POST /api/v1/qr/bulk`. */
export const BULK_CHUNK_SIZE = 100;

const STYLE_FIELDS: Record<string, string> = {
	background: 'background',
	errorCorrection: 'error_correction',
	foreground: 'foreground',
	margin: 'margin',
};

function parseContent(target: ErrorTarget, raw: unknown): IDataObject {
	if (typeof raw === 'object' && raw !== null && !Array.isArray(raw)) return raw as IDataObject;
	const text = String(raw ?? '').trim();
	if (!text) return {};
	let parsed: unknown;
	try {
		parsed = JSON.parse(text);
	} catch {
		parsed = undefined;
	}
	if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
		throw new NodeOperationError(target.node, 'Content must be a JSON object', { itemIndex: target.itemIndex });
	}
	return parsed as IDataObject;
}

/**
 * The create body of one item, from the same parameters Create reads. Create builds its body through declarative
 * routing; `createMany.test.ts` checks that both give the same body for the same parameters.
 */
export function buildCreateBody(this: IExecuteFunctions, itemIndex: number): IDataObject {
	const target = { node: this.getNode(), itemIndex };
	const type = this.getNodeParameter('type', itemIndex, 'url') as string;
	const body: IDataObject = { name: this.getNodeParameter('name', itemIndex) as string, type };
	if (type === 'url') {
		body.mode = this.getNodeParameter('mode', itemIndex, 'dynamic') as string;
		body.destination_url = this.getNodeParameter('destinationUrl', itemIndex) as string;
	} else {
		body.mode = 'static';
		body.content = parseContent(target, this.getNodeParameter('content', itemIndex, '{}'));
	}
	const fields = this.getNodeParameter('additionalFields', itemIndex, {}) as IDataObject;
	const style: IDataObject = {};
	for (const [name, apiName] of Object.entries(STYLE_FIELDS)) {
		if (fields[name] !== undefined) style[apiName] = fields[name];
	}
	if (Object.keys(style).length) body.style = style;
	if (fields.status !== undefined) body.status = fields.status;
	if (fields.tags !== undefined) body.tags = fields.tags;
	if (fields.domain !== undefined) body.domain = fields.domain;
	Object.assign(body, smartBody(target, fields));
	return body;
}

interface BulkItemResult {
	index: number;
	status: number;
	data?: IDataObject;
	error?: { code?: string; message?: string; details?: Array<{ field?: string; message?: string }> };
}

/** The Idempotency-Key of one call: stable for the node in this execution (Retry On Fail replays it), or the user's. */
function chunkKey(this: IExecuteFunctions, chunkIndex: number): string {
	const custom = String(this.getNodeParameter('additionalFields.idempotencyKey', 0, '') ?? '').trim();
	const base = custom || `n8n-${this.getExecutionId()}-${this.getNode().id}-bulk`;
	return `${base.slice(0, 240)}-part${chunkIndex + 1}`;
}

/**
 * Custom operation: creates one code per input item with `POST /api/v1/qr/bulk`, 100 items per call, and outputs
 * one item per input item (paired to it). A refused item becomes an error item with Continue On Fail; otherwise
 * the node fails naming it (the other items of its call are created, and a retry replays them).
 */
export async function executeCreateMany(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const items = this.getInputData();
	const output: Array<INodeExecutionData | undefined> = new Array(items.length);
	const errorItem = (itemIndex: number, message: string, extra: IDataObject = {}): INodeExecutionData => ({
		json: { error: message, ...extra },
		pairedItem: { item: itemIndex },
	});

	// Every body is built before anything is sent, so a bad parameter fails the node with nothing created.
	const pending: Array<{ itemIndex: number; body: IDataObject }> = [];
	for (let itemIndex = 0; itemIndex < items.length; itemIndex++) {
		try {
			pending.push({ itemIndex, body: buildCreateBody.call(this, itemIndex) });
		} catch (error) {
			const nodeError = asNodeError(this.getNode(), error, itemIndex);
			if (!this.continueOnFail()) throw nodeError;
			output[itemIndex] = errorItem(itemIndex, nodeError.message);
		}
	}

	for (let offset = 0, chunk = 0; offset < pending.length; offset += BULK_CHUNK_SIZE, chunk++) {
		const batch = pending.slice(offset, offset + BULK_CHUNK_SIZE);
		let results: BulkItemResult[];
		try {
			const response = await qrflowApiRequest.call(this, {
				method: 'POST',
				path: '/api/v1/qr/bulk',
				body: { items: batch.map((entry) => entry.body) },
				headers: { 'Idempotency-Key': chunkKey.call(this, chunk) },
				itemIndex: batch[0]?.itemIndex,
			});
			results = (response.body as { data: BulkItemResult[] }).data;
		} catch (error) {
			// The whole call was refused (scope, rate limit, server down): each of its items failed alike.
			if (!this.continueOnFail()) throw asNodeError(this.getNode(), error, batch[0]?.itemIndex);
			for (const { itemIndex } of batch) output[itemIndex] = errorItem(itemIndex, (error as Error).message, { status: Number((error as NodeApiError).httpCode) || null });
			continue;
		}
		for (const result of results) {
			const entry = batch[result.index];
			if (!entry) continue;
			if (result.status < 400 && result.data) {
				output[entry.itemIndex] = { json: result.data, pairedItem: { item: entry.itemIndex } };
				continue;
			}
			const message = result.error?.message ?? `qrflow answered ${result.status} for this item`;
			if (this.continueOnFail()) {
				output[entry.itemIndex] = errorItem(entry.itemIndex, message, { code: result.error?.code ?? null, status: result.status, details: (result.error?.details ?? []) as IDataObject[] });
				continue;
			}
			const created = results.filter((other) => other.status < 400).length;
			const apiError = toQrFlowApiError(this.getNode(), result.status, { error: result.error }, {}, entry.itemIndex);
			apiError.message = `Item ${entry.itemIndex} was refused: ${message}`;
			apiError.description = [
				apiError.description,
				`${created} of the ${results.length} items sent with it were created; Retry On Fail replays this call without creating them twice.`,
			]
				.filter(Boolean)
				.join('\n');
			throw apiError;
		}
	}
	return [output.filter((item): item is INodeExecutionData => item !== undefined)];
}
