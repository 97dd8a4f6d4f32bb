import type { INodeProperties } from 'n8n-workflow';
import { contentHint, qrCodeIdField, sortedByName, styleAndTagFields } from '../../shared/descriptions';
import { logoBinaryOption, removeLogoOption } from '../../shared/logo';
import { smartFieldOptions } from '../../shared/smart';

const showOnlyForQrCodeUpdate = {
	resource: ['qrCode'],
	operation: ['update'],
};

export const qrCodeUpdateDescription: INodeProperties[] = [
	qrCodeIdField(showOnlyForQrCodeUpdate),
	{
		displayName: 'Update Fields',
		name: 'updateFields',
		type: 'collection',
		placeholder: 'Add Field',
		default: {},
		displayOptions: { show: showOnlyForQrCodeUpdate },
		options: sortedByName([
			{
				displayName: 'Content (JSON)',
				name: 'content',
				type: 'json',
				default: '{}',
				description: contentHint,
			},
			{
				displayName: 'Destination URL',
				name: 'destinationUrl',
				type: 'string',
				default: '',
				placeholder: 'https://example.com/summer',
				description: 'New destination of a dynamic URL code; printed codes follow it at once',
				routing: { send: { type: 'body', property: 'destination_url' } },
			},
			{
				displayName: 'Name',
				name: 'name',
				type: 'string',
				default: '',
				routing: { send: { type: 'body', property: 'name' } },
			},
			...styleAndTagFields,
			logoBinaryOption,
			removeLogoOption,
			...smartFieldOptions({ forUpdate: true }),
		]),
	},
];
