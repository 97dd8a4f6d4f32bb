import { randomUUID } from 'node:crypto';
import type {
	IDataObject,
	IExecuteSingleFunctions,
	IHttpRequestOptions,
	IN8nHttpFullResponse,
	INodeExecutionData,
	PostReceiveAction,
} from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';
import { smartBody } from './smart';
import { toQrFlowApiError } from './transport';

/**
 * Declarative operations ask n8n not to throw on HTTP errors, so this hook can surface the
 * server's own `error.message` instead of a generic "Request failed with status code 400".
 */
export async function throwOnErrorResponse(
	this: IExecuteSingleFunctions,
	items: INodeExecutionData[],
	response: IN8nHttpFullResponse,
): Promise<INodeExecutionData[]> {
	if (response.statusCode >= 400) {
		throw toQrFlowApiError(
			this.getNode(),
			response.statusCode,
			response.body,
			response.headers,
			this.getItemIndex(),
		);
	}
	return items;
}

/** The output every JSON operation shares: fail on errors, then unwrap the `data` envelope. */
export const unwrapData: PostReceiveAction[] = [
	throwOnErrorResponse,
	{ type: 'rootProperty', properties: { property: 'data' } },
];

function setHeader(requestOptions: IHttpRequestOptions, name: string, value: string) {
	requestOptions.headers = { ...(requestOptions.headers ?? {}), [name]: value };
}

function bodyOf(requestOptions: IHttpRequestOptions): IDataObject {
	if (requestOptions.body === undefined || requestOptions.body === null) requestOptions.body = {};
	return requestOptions.body as IDataObject;
}

/**
 * Creates send an Idempotency-Key so a retried item (Retry On Fail, a timeout) cannot create a
 * second code. The default key is stable for one item of one execution; users may set their own.
 */
export async function addIdempotencyKey(
	this: IExecuteSingleFunctions,
	requestOptions: IHttpRequestOptions,
): Promise<IHttpRequestOptions> {
	const custom = this.getNodeParameter('additionalFields.idempotencyKey', '') as string;
	let key = custom.trim();
	if (!key) {
		const executionId = this.getExecutionId();
		key = executionId
			? `n8n-${executionId}-${this.getNode().id}-${this.getItemIndex()}`
			: `n8n-${randomUUID()}`;
	}
	setHeader(requestOptions, 'Idempotency-Key', key.slice(0, 255));
	return requestOptions;
}

function parseContent(this: IExecuteSingleFunctions, raw: unknown): IDataObject {
	if (typeof raw === 'object' && raw !== null) return raw as IDataObject;
	const text = String(raw ?? '').trim();
	if (!text) return {};
	try {
		const parsed = JSON.parse(text) as unknown;
		if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
			throw new Error('not an object');
		}
		return parsed as IDataObject;
	} catch {
		throw new NodeOperationError(this.getNode(), 'Content must be a JSON object', {
			itemIndex: this.getItemIndex(),
			description: 'For example {"text": "Hello"} for a text code, or {"ssid": "Cafe", "encryption": "WPA"} for Wi-Fi',
		});
	}
}

/** Non-URL codes carry a type-specific `content` object and are always static. */
export async function addCreateContent(
	this: IExecuteSingleFunctions,
	requestOptions: IHttpRequestOptions,
): Promise<IHttpRequestOptions> {
	const type = this.getNodeParameter('type', 'url') as string;
	if (type === 'url') return requestOptions;
	const body = bodyOf(requestOptions);
	body.content = parseContent.call(this, this.getNodeParameter('content', '{}'));
	body.mode = 'static';
	return requestOptions;
}

/** Update sends `content` only when the user filled it in. */
export async function addUpdateContent(
	this: IExecuteSingleFunctions,
	requestOptions: IHttpRequestOptions,
): Promise<IHttpRequestOptions> {
	const raw = this.getNodeParameter('updateFields.content', '') as unknown;
	if (raw === '' || raw === undefined) return requestOptions;
	bodyOf(requestOptions).content = parseContent.call(this, raw);
	return requestOptions;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** Turns the Range choice into the `from`/`to` query of the analytics endpoint. */
export async function addAnalyticsRange(
	this: IExecuteSingleFunctions,
	requestOptions: IHttpRequestOptions,
): Promise<IHttpRequestOptions> {
	const range = this.getNodeParameter('range', 'last30Days') as string;
	const qs: IDataObject = { ...(requestOptions.qs ?? {}) };
	if (range === 'custom') {
		const from = this.getNodeParameter('from', '') as string;
		const to = this.getNodeParameter('to', '') as string;
		if (from) qs.from = new Date(from).toISOString();
		if (to) qs.to = new Date(to).toISOString();
	} else {
		const days = { last7Days: 7, last30Days: 30, last90Days: 90, last365Days: 365 }[range] ?? 30;
		const now = Date.now();
		qs.from = new Date(now - days * DAY_MS).toISOString();
		qs.to = new Date(now).toISOString();
	}
	requestOptions.qs = qs;
	return requestOptions;
}

/** preSend of Create and Update: the smart-code options of the collection (rules, variants, schedule, …) into the body. */
export function addSmartFields(collection: 'additionalFields' | 'updateFields') {
	return async function (this: IExecuteSingleFunctions, requestOptions: IHttpRequestOptions): Promise<IHttpRequestOptions> {
		const fields = this.getNodeParameter(collection, {}) as IDataObject;
		const target = { node: this.getNode(), itemIndex: this.getItemIndex() };
		Object.assign(bodyOf(requestOptions), smartBody(target, fields, { forUpdate: collection === 'updateFields' }));
		return requestOptions;
	};
}
