import type { IDataObject, IHttpRequestOptions, IN8nHttpFullResponse } from 'n8n-workflow';

/** Joins like axios does, so a base URL with or without a trailing slash behaves as in n8n. */
export function joinUrl(baseURL: string | undefined, url: string): string {
	if (!baseURL || /^https?:\/\//.test(url)) return url;
	return `${baseURL.replace(/\/+$/, '')}/${url.replace(/^\/+/, '')}`;
}

function appendQuery(url: string, qs: IDataObject | undefined): string {
	if (!qs) return url;
	const search = new URLSearchParams();
	for (const [key, value] of Object.entries(qs)) {
		if (value === undefined || value === null) continue;
		for (const entry of Array.isArray(value) ? value : [value]) search.append(key, String(entry));
	}
	const text = search.toString();
	return text ? `${url}${url.includes('?') ? '&' : '?'}${text}` : url;
}

/** Thrown for non-2xx answers unless ignoreHttpStatusErrors is set, like n8n's request helper. */
export class HarnessHttpError extends Error {
	constructor(
		readonly statusCode: number,
		readonly body: unknown,
	) {
		super(`Request failed with status code ${statusCode}`);
	}
}

/** A fetch-based stand-in for n8n's `helpers.httpRequest` covering the options this package uses. */
export async function httpRequest(options: IHttpRequestOptions): Promise<unknown> {
	const url = appendQuery(joinUrl(options.baseURL, options.url), options.qs);
	const headers: Record<string, string> = {};
	for (const [name, value] of Object.entries(options.headers ?? {})) {
		if (value !== undefined) headers[name] = String(value);
	}
	let body: string | Uint8Array<ArrayBuffer> | undefined;
	const hasBody =
		options.body !== undefined &&
		!(typeof options.body === 'object' && options.body !== null && !Buffer.isBuffer(options.body) && Object.keys(options.body).length === 0);
	if (Buffer.isBuffer(options.body)) {
		// raw bytes (a logo) go out as they are, with the Content-Type the caller set
		body = new Uint8Array(options.body);
	} else if (hasBody) {
		body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
		headers['Content-Type'] ??= 'application/json';
	} else {
		delete headers['Content-Type'];
	}

	const response = await fetch(url, { method: options.method ?? 'GET', headers, body });
	const responseHeaders: IDataObject = {};
	response.headers.forEach((value, name) => {
		responseHeaders[name] = value;
	});
	let responseBody: unknown;
	const bytes = Buffer.from(await response.arrayBuffer());
	if (options.encoding === 'arraybuffer') {
		responseBody = bytes;
	} else if ((response.headers.get('content-type') ?? '').includes('json') && bytes.length > 0) {
		responseBody = JSON.parse(bytes.toString('utf8'));
	} else {
		responseBody = bytes.toString('utf8');
	}
	if (response.status >= 400 && !options.ignoreHttpStatusErrors) {
		throw new HarnessHttpError(response.status, responseBody);
	}
	const full: IN8nHttpFullResponse = {
		body: responseBody as IN8nHttpFullResponse['body'],
		headers: responseHeaders,
		statusCode: response.status,
	};
	return options.returnFullResponse ? full : responseBody;
}
