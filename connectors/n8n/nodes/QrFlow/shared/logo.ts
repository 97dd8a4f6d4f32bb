import type { IDataObject, IExecuteSingleFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';
import { asNodeError, qrflowApiRequest } from './transport';

/** The server's limit for a logo. */
export const MAX_LOGO_BYTES = 256 * 1024;

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** image/png or image/svg+xml by the bytes themselves (binary data read from disk often says octet-stream). */
export function logoContentType(bytes: Buffer): 'image/png' | 'image/svg+xml' | undefined {
	if (bytes.subarray(0, PNG_SIGNATURE.length).equals(PNG_SIGNATURE)) return 'image/png';
	const head = bytes.subarray(0, 1024).toString('utf8').replace(/^\uFEFF/, '').trimStart();
	if (head.startsWith('<') && /<svg[\s>]/i.test(bytes.subarray(0, 64 * 1024).toString('utf8'))) return 'image/svg+xml';
	return undefined;
}

export const logoBinaryOption: INodeProperties = {
	displayName: 'Logo (Binary Property)',
	name: 'logoBinaryProperty',
	type: 'string',
	default: 'data',
	description:
		'Name of the input binary field holding a PNG or SVG logo (at most 256 KB) to put in the middle of the code; the code switches to error correction H so it still scans',
};

export const removeLogoOption: INodeProperties = {
	displayName: 'Remove Logo',
	name: 'removeLogo',
	type: 'boolean',
	default: false,
	description: 'Whether to take the logo out of the code (ignored when a new logo is given)',
};

function parseJson(body: unknown): IDataObject | undefined {
	if (typeof body === 'string') {
		try {
			return JSON.parse(body) as IDataObject;
		} catch {
			return undefined;
		}
	}
	return body as IDataObject | undefined;
}

/** Puts the PNG or SVG in the item's binary field on a code (`PUT /api/v1/qr/:id/logo`); answers the code afterwards. */
export async function putLogo(
	this: IExecuteSingleFunctions,
	qrCodeId: string,
	binaryPropertyName: string,
): Promise<IDataObject | undefined> {
	const itemIndex = this.getItemIndex();
	const bytes = await this.helpers.getBinaryDataBuffer(binaryPropertyName);
	if (bytes.length > MAX_LOGO_BYTES) {
		throw new NodeOperationError(this.getNode(), `The logo is ${Math.ceil(bytes.length / 1024)} KB; qrflow takes at most 256 KB`, {
			itemIndex,
			description: 'Use a smaller PNG, or an SVG',
		});
	}
	const contentType = logoContentType(bytes);
	if (!contentType) {
		throw new NodeOperationError(this.getNode(), `The binary field "${binaryPropertyName}" is not a PNG or SVG image`, { itemIndex });
	}
	const response = await qrflowApiRequest.call(this, {
		method: 'PUT',
		path: `/api/v1/qr/${encodeURIComponent(qrCodeId)}/logo`,
		rawBody: bytes,
		contentType,
		itemIndex,
	});
	return parseJson(response.body)?.data as IDataObject | undefined;
}

/** Takes the logo off a code (`DELETE /api/v1/qr/:id/logo`); answers the code afterwards. */
export async function deleteLogo(this: IExecuteSingleFunctions, qrCodeId: string): Promise<IDataObject | undefined> {
	const response = await qrflowApiRequest.call(this, {
		method: 'DELETE',
		path: `/api/v1/qr/${encodeURIComponent(qrCodeId)}/logo`,
		itemIndex: this.getItemIndex(),
	});
	return parseJson(response.body)?.data as IDataObject | undefined;
}

/** The code itself, when a logo answer is not the full code. */
async function currentCode(this: IExecuteSingleFunctions, qrCodeId: string, answer: IDataObject | undefined): Promise<IDataObject> {
	if (answer && answer.id === qrCodeId && typeof answer.name === 'string' && 'short_url' in answer) return answer;
	const response = await qrflowApiRequest.call(this, {
		method: 'GET',
		path: `/api/v1/qr/${encodeURIComponent(qrCodeId)}`,
		itemIndex: this.getItemIndex(),
	});
	return (response.body as { data: IDataObject }).data;
}

/**
 * postReceive of Create and Update: after the JSON call, puts the logo from the binary field on the code, or
 * removes it, and outputs the code as it is then.
 */
export function applyLogo(collection: 'additionalFields' | 'updateFields') {
	return async function (this: IExecuteSingleFunctions, items: INodeExecutionData[]): Promise<INodeExecutionData[]> {
		const property = String(this.getNodeParameter(`${collection}.logoBinaryProperty`, '') ?? '').trim();
		const remove = collection === 'updateFields' && this.getNodeParameter('updateFields.removeLogo', false) === true;
		if (!property && !remove) return items;
		const code = items[0]?.json;
		const qrCodeId = String(code?.id ?? '');
		try {
			const answer = property ? await putLogo.call(this, qrCodeId, property) : await deleteLogo.call(this, qrCodeId);
			return [{ json: await currentCode.call(this, qrCodeId, answer) }];
		} catch (error) {
			throw asNodeError(this.getNode(), error, this.getItemIndex());
		}
	};
}
