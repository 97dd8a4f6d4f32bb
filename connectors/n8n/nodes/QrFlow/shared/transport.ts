import type {
	IDataObject,
	IExecuteFunctions,
	IExecuteSingleFunctions,
	IHookFunctions,
	IHttpRequestMethods,
	IHttpRequestOptions,
	ILoadOptionsFunctions,
	IN8nHttpFullResponse,
	INode,
	IPollFunctions,
	JsonObject,
} from 'n8n-workflow';
import { NodeApiError, NodeError, NodeOperationError } from 'n8n-workflow';

export const QRFLOW_CREDENTIAL = 'qrflowApi';

type QrFlowContext =
	| IExecuteFunctions
	| IExecuteSingleFunctions
	| IHookFunctions
	| ILoadOptionsFunctions
	| IPollFunctions;

export interface QrFlowRequest {
	method: IHttpRequestMethods;
	path: string;
	qs?: IDataObject;
	body?: IDataObject;
	headers?: IDataObject;
	/** Ask for the raw bytes (images) instead of parsed JSON */
	binary?: boolean;
	/** Send these bytes as the body (a logo), with `contentType`, instead of JSON */
	rawBody?: Buffer;
	contentType?: string;
	itemIndex?: number;
}

interface ServerErrorBody {
	error?: {
		code?: string;
		message?: string;
		details?: Array<{ field?: string; message?: string }>;
	};
	request_id?: string;
}

function parseErrorBody(body: unknown): ServerErrorBody {
	if (body === undefined || body === null) return {};
	if (Buffer.isBuffer(body) || body instanceof ArrayBuffer) {
		return parseErrorBody(Buffer.from(body as Buffer).toString('utf8'));
	}
	if (typeof body === 'string') {
		try {
			return JSON.parse(body) as ServerErrorBody;
		} catch {
			return { error: { message: body.slice(0, 200) } };
		}
	}
	return body as ServerErrorBody;
}

/** Turns a qrflow error response into a NodeApiError whose message is the server's own sentence. */
export function toQrFlowApiError(
	node: INode,
	statusCode: number,
	responseBody: unknown,
	headers: IDataObject = {},
	itemIndex?: number,
): NodeApiError {
	const parsed = parseErrorBody(responseBody);
	const serverError = parsed.error ?? {};
	const descriptionParts: string[] = [];
	for (const detail of serverError.details ?? []) {
		descriptionParts.push(detail.field ? `${detail.field}: ${detail.message}` : String(detail.message));
	}
	const retryAfter = headers['retry-after'];
	if (retryAfter !== undefined) descriptionParts.push(`Retry after ${String(retryAfter)} seconds.`);
	if (serverError.code) descriptionParts.push(`Code: ${serverError.code}`);
	if (parsed.request_id) descriptionParts.push(`Request ID: ${parsed.request_id}`);
	return new NodeApiError(node, { ...parsed, statusCode } as unknown as JsonObject, {
		message: serverError.message ?? `qrflow answered with HTTP ${statusCode}`,
		description: descriptionParts.join('\n') || undefined,
		httpCode: String(statusCode),
		itemIndex,
	});
}

/** Performs one authenticated call to the qrflow API and returns the full response, or throws NodeApiError. */
export async function qrflowApiRequest(
	this: QrFlowContext,
	request: QrFlowRequest,
): Promise<IN8nHttpFullResponse> {
	const credentials = await this.getCredentials(QRFLOW_CREDENTIAL);
	const options: IHttpRequestOptions = {
		method: request.method,
		baseURL: String(credentials.baseUrl),
		url: request.path,
		qs: request.qs,
		body: request.rawBody ?? request.body,
		headers: {
			Accept: request.binary ? '*/*' : 'application/json',
			...(request.rawBody ? { 'Content-Type': request.contentType ?? 'application/octet-stream' } : {}),
			...request.headers,
		},
		json: !request.binary && !request.rawBody,
		returnFullResponse: true,
		ignoreHttpStatusErrors: true,
	};
	if (request.binary) options.encoding = 'arraybuffer';

	let response: IN8nHttpFullResponse;
	try {
		response = (await this.helpers.httpRequestWithAuthentication.call(
			this,
			QRFLOW_CREDENTIAL,
			options,
		)) as IN8nHttpFullResponse;
	} catch (error) {
		throw new NodeApiError(this.getNode(), error as JsonObject, { itemIndex: request.itemIndex });
	}
	if (response.statusCode >= 400) {
		throw toQrFlowApiError(
			this.getNode(),
			response.statusCode,
			response.body,
			response.headers,
			request.itemIndex,
		);
	}
	return response;
}

/** Calls the API and returns the `data` member of the JSON envelope. */
export async function qrflowApiData(
	this: QrFlowContext,
	request: QrFlowRequest,
): Promise<IDataObject> {
	const response = await qrflowApiRequest.call(this, request);
	return (response.body as { data: IDataObject }).data;
}

/** Keeps n8n's own errors as they are and wraps anything else, so the UI shows the item it came from. */
export function asNodeError(node: INode, error: unknown, itemIndex?: number): NodeError {
	if (error instanceof NodeError) return error;
	return new NodeOperationError(node, error as Error, { itemIndex });
}
