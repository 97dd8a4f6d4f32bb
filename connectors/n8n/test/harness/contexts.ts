import type {
	IBinaryData,
	ICredentialDataDecryptedObject,
	IDataObject,
	IHttpRequestOptions,
	INode,
	INodeExecutionData,
	INodeProperties,
} from 'n8n-workflow';
// Re-exported so cross-package tests outside this package need not resolve n8n-workflow themselves.
export type {
	IDataObject,
	IHookFunctions,
	ILoadOptionsFunctions,
	IPollFunctions,
	IWebhookFunctions,
	NodeApiError,
} from 'n8n-workflow';
import { QrFlowApi } from '../../credentials/QrFlowApi.credentials';
import { evaluateDeep } from './expressions';
import { httpRequest } from './http';
import { readPath, resolveParameters } from './parameters';

export interface Credentials {
	apiKey: string;
	baseUrl: string;
}

export interface FakeContextOptions {
	/** The node's properties, to fill in defaults like n8n does. */
	properties: INodeProperties[];
	/** Parameters per input item (one entry per item). */
	items: Record<string, unknown>[];
	credentials: Credentials;
	continueOnFail?: boolean;
	staticData?: IDataObject;
	mode?: 'manual' | 'trigger' | 'webhook';
	executionId?: string;
	webhookUrl?: string;
	request?: { headers?: Record<string, string>; body?: unknown; rawBody?: Buffer };
	/** Binary data of each input item (by index), as an earlier node would hand it over. */
	binary?: Array<Record<string, IBinaryData> | undefined>;
}

export interface LoggedLine {
	level: string;
	message: string;
}

export interface FakeResponse {
	statusCode?: number;
	body?: unknown;
}

/** Adds the credential's `authenticate` headers, evaluated like n8n does. */
export function authenticate(
	credentials: Credentials,
	options: IHttpRequestOptions,
): IHttpRequestOptions {
	const { properties } = new QrFlowApi().authenticate;
	const headers = evaluateDeep(properties.headers ?? {}, {
		parameters: {},
		credentials: credentials as unknown as Record<string, unknown>,
	});
	return { ...options, headers: { ...(options.headers ?? {}), ...headers } };
}

export function createNode(type: string): INode {
	return {
		id: 'node-1',
		name: 'QRflow',
		type,
		typeVersion: 1,
		position: [0, 0],
		parameters: {},
	};
}

/**
 * One object that answers the parts of IExecuteFunctions, IExecuteSingleFunctions, IHookFunctions,
 * IPollFunctions, IWebhookFunctions and ILoadOptionsFunctions this package calls.
 */
export function createFakeContext(
	options: FakeContextOptions,
	{ kind = 'single', itemIndex = 0 }: { kind?: 'execute' | 'single'; itemIndex?: number } = {},
) {
	const node = createNode('n8n-nodes-qrflow.qrFlow');
	const resolved = options.items.map((item) => resolveParameters(options.properties, item));
	const staticData = options.staticData ?? {};
	const logs: LoggedLine[] = [];
	const response: FakeResponse = {};

	function getNodeParameter(name: string, ...rest: unknown[]): unknown {
		// IExecuteFunctions passes (name, itemIndex, fallback); the single-item contexts pass (name, fallback).
		const indexed = kind === 'execute';
		const index = indexed ? (rest[0] as number) : itemIndex;
		const fallback = indexed ? rest[1] : rest[0];
		const value = readPath(resolved[index] ?? {}, name);
		if (value !== undefined) return value;
		if (fallback !== undefined) return fallback;
		throw new Error(`Could not get parameter "${name}"`);
	}

	const logger = Object.fromEntries(
		['debug', 'info', 'warn', 'error'].map((level) => [
			level,
			(message: string) => logs.push({ level, message }),
		]),
	);

	const inputItems = (): INodeExecutionData[] =>
		options.items.map((_item, index) => ({ json: {}, ...(options.binary?.[index] ? { binary: options.binary[index] } : {}) }));

	// IExecuteFunctions passes (itemIndex, propertyName); IExecuteSingleFunctions passes (propertyName).
	function assertBinaryData(...args: unknown[]): IBinaryData {
		const [index, propertyName] = kind === 'execute' ? [args[0] as number, args[1] as string] : [itemIndex, args[0] as string];
		const binary = options.binary?.[index]?.[propertyName];
		if (!binary) throw new Error(`This operation expects the node's input data to contain a binary file '${propertyName}', but none was found [item ${index}]`);
		return binary;
	}

	const context = {
		getNode: () => node,
		getNodeParameter,
		// n8n hands a single-item context its own item, and an execute context all of them
		getInputData: (): INodeExecutionData[] | INodeExecutionData => (kind === 'execute' ? inputItems() : (inputItems()[itemIndex] ?? { json: {} })),
		getItemIndex: () => itemIndex,
		getExecutionId: () => options.executionId ?? 'exec-1',
		getMode: () => options.mode ?? 'trigger',
		continueOnFail: () => options.continueOnFail ?? false,
		getCredentials: async (): Promise<ICredentialDataDecryptedObject> => ({ ...options.credentials }),
		getWorkflowStaticData: () => staticData,
		getNodeWebhookUrl: () => options.webhookUrl ?? 'https://n8n.example.test/webhook/abc/webhook',
		getRequestObject: () => ({
			headers: options.request?.headers ?? {},
			body: options.request?.body,
			rawBody: options.request?.rawBody,
		}),
		getHeaderData: () =>
			Object.fromEntries(
				Object.entries(options.request?.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]),
			),
		getBodyData: () => options.request?.body,
		getResponseObject: () => {
			const res = {
				status(code: number) {
					response.statusCode = code;
					return res;
				},
				json(body: unknown) {
					response.body = body;
					return res;
				},
				end() {
					return res;
				},
			};
			return res;
		},
		logger,
		helpers: {
			httpRequest,
			assertBinaryData,
			async getBinaryDataBuffer(...args: unknown[]): Promise<Buffer> {
				return Buffer.from(assertBinaryData(...args).data, 'base64');
			},
			async httpRequestWithAuthentication(_credentialType: string, requestOptions: IHttpRequestOptions) {
				return await httpRequest(authenticate(options.credentials, requestOptions));
			},
			async prepareBinaryData(data: Buffer, fileName?: string, mimeType?: string) {
				return {
					data: data.toString('base64'),
					mimeType: mimeType ?? 'application/octet-stream',
					fileName,
					fileExtension: fileName?.split('.').pop(),
					fileSize: String(data.length),
				};
			},
			returnJsonArray(data: IDataObject | IDataObject[]): INodeExecutionData[] {
				return (Array.isArray(data) ? data : [data]).map((json) => ({ json }));
			},
		},
	};
	return { context, logs, response, staticData, parameters: resolved };
}
