import type { INodeProperties } from 'n8n-workflow';
import { addCreateContent, addIdempotencyKey, addUpdateContent, unwrapData } from '../../shared/routing';
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
					send: { preSend: [addIdempotencyKey, addCreateContent] },
					request: { method: 'POST', url: '/api/v1/qr' },
					output: { postReceive: unwrapData },
				},
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
				description: 'Render a QR code as a PNG or SVG file',
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
				description: 'Change the name, destination, status, tags or style of a QR code',
				routing: {
					send: { preSend: [addUpdateContent] },
					request: { method: 'PATCH', url: '=/api/v1/qr/{{$parameter.qrCodeId}}' },
					output: { postReceive: unwrapData },
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
