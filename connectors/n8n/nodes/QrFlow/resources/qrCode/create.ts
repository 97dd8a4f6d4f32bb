import type { INodeProperties } from 'n8n-workflow';
import { contentHint, qrTypeOptions, sortedByName, styleAndTagFields } from '../../shared/descriptions';
import { domainOption } from '../../shared/domains';
import { logoBinaryOption } from '../../shared/logo';
import { smartFieldOptions } from '../../shared/smart';

// Create Many takes the same fields per item as Create (see createMany.ts).
const showOnlyForQrCodeCreate = {
	resource: ['qrCode'],
	operation: ['create', 'createMany'],
};

export const qrCodeCreateDescription: INodeProperties[] = [
	{
		displayName: 'Name',
		name: 'name',
		type: 'string',
		required: true,
		default: '',
		placeholder: 'Spring flyer',
		description: 'A name to find the code by',
		displayOptions: { show: showOnlyForQrCodeCreate },
		routing: { send: { type: 'body', property: 'name' } },
	},
	{
		displayName: 'Type',
		name: 'type',
		type: 'options',
		options: qrTypeOptions,
		default: 'url',
		description: 'What the code encodes. Only URL codes can be dynamic.',
		displayOptions: { show: showOnlyForQrCodeCreate },
		routing: { send: { type: 'body', property: 'type' } },
	},
	{
		displayName: 'Mode',
		name: 'mode',
		type: 'options',
		options: [
			{
				name: 'Dynamic',
				value: 'dynamic',
				description: 'Encodes a short link whose destination can change later, and counts scans',
			},
			{
				name: 'Static',
				value: 'static',
				description: 'Encodes the destination itself; cannot change and is not tracked',
			},
		],
		default: 'dynamic',
		displayOptions: { show: { ...showOnlyForQrCodeCreate, type: ['url'] } },
		routing: { send: { type: 'body', property: 'mode' } },
	},
	{
		displayName: 'Destination URL',
		name: 'destinationUrl',
		type: 'string',
		required: true,
		default: '',
		placeholder: 'https://example.com/spring',
		description: 'Where a scan leads',
		displayOptions: { show: { ...showOnlyForQrCodeCreate, type: ['url'] } },
		routing: { send: { type: 'body', property: 'destination_url' } },
	},
	{
		displayName: 'Content (JSON)',
		name: 'content',
		type: 'json',
		required: true,
		default: '{\n  "text": ""\n}',
		description: contentHint,
		displayOptions: {
			show: { ...showOnlyForQrCodeCreate, type: ['email', 'phone', 'sms', 'text', 'vcard', 'wifi'] },
		},
	},
	{
		displayName: 'Additional Fields',
		name: 'additionalFields',
		type: 'collection',
		placeholder: 'Add Field',
		default: {},
		displayOptions: { show: showOnlyForQrCodeCreate },
		options: sortedByName([
			...styleAndTagFields,
			domainOption,
			{
				displayName: 'Idempotency Key',
				name: 'idempotencyKey',
				type: 'string',
				default: '',
				description:
					'Sent as the Idempotency-Key header: repeating a create with the same key and body within 24 hours returns the first code instead of making another. By default n8n uses one key per item and execution. Create Many uses the first item\'s key, plus the part number, for each call of 100.',
			},
			// one item at a time: Create Many sends JSON only
			{ ...logoBinaryOption, displayOptions: { show: { '/operation': ['create'] } } },
			...smartFieldOptions(),
		]),
	},
];
