import type { INodeProperties } from 'n8n-workflow';
import { applyLogo } from '../../shared/logo';
import { addCreateContent, addIdempotencyKey, addSmartFields, addUpdateContent, unwrapData } from '../../shared/routing';
import { qrCodeCreateDescription } from './create';
import { qrCodeDeleteDescription } from './delete';
import { qrCodeGetDescription } from './get';
import { qrCodeGetManyDescription } from './getAll';
import { qrCodeGetImageDescription } from './getImage';
import { qrCodeUpdateDescription } from './update';

const showOnlyForQrCodes = {
	resource: ['qrCode'],
};

export const qrCodeDescription: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: showOnlyForQrCodes },
		options: [
			{
				name: 'Create',
				value: 'create',
				action: 'Create a QR code',
				description: 'Create a dynamic or static QR code',
				routing: {
					send: { preSend: [addIdempotencyKey, addCreateContent, addSmartFields('additionalFields')] },
					request: { method: 'POST', url: '/api/v1/qr' },
					output: { postReceive: [...unwrapData, applyLogo('additionalFields')] },
				},
			},
			{
				name: 'Create Many',
				value: 'createMany',
				action: 'Create many QR codes',
				description: 'Create one QR code per input item, up to 100 per request',
			},
			{
				name: 'Delete',
				value: 'delete',
				action: 'Delete a QR code',
				description: 'Delete a QR code; its short link stops working',
				routing: {
					request: { method: 'DELETE', url: '=/api/v1/qr/{{$parameter.qrCodeId}}' },
					output: { postReceive: unwrapData },
				},
			},
			{
				name: 'Get',
				value: 'get',
				action: 'Get a QR code',
				description: 'Get one QR code with its scan count',
				routing: {
					request: { method: 'GET', url: '=/api/v1/qr/{{$parameter.qrCodeId}}' },
					output: { postReceive: unwrapData },
				},
			},
			{
				name: 'Get Image',
				value: 'getImage',
				action: 'Get the image of a QR code',
				description: 'Render a QR code as a PNG, SVG or PDF file',
			},
			{
				name: 'Get Many',
				value: 'getAll',
				action: 'Get many QR codes',
				description: 'List QR codes, newest first',
			},
			{
				name: 'Update',
				value: 'update',
				action: 'Update a QR code',
				description: 'Change the name, destination, status, tags, style, logo or smart settings of a QR code',
				routing: {
					send: { preSend: [addUpdateContent, addSmartFields('updateFields')] },
					request: { method: 'PATCH', url: '=/api/v1/qr/{{$parameter.qrCodeId}}' },
					output: { postReceive: [...unwrapData, applyLogo('updateFields')] },
				},
			},
		],
		default: 'create',
	},
	...qrCodeCreateDescription,
	...qrCodeGetDescription,
	...qrCodeGetManyDescription,
	...qrCodeGetImageDescription,
	...qrCodeUpdateDescription,
	...qrCodeDeleteDescription,
];
