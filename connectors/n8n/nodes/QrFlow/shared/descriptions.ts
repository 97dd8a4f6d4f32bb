import type { INodeProperties } from 'n8n-workflow';

/** The QR code a single-code operation acts on. */
export function qrCodeIdField(show: Record<string, string[]>): INodeProperties {
	return {
		displayName: 'QR Code ID',
		name: 'qrCodeId',
		type: 'string',
		required: true,
		default: '',
		placeholder: 'qr_8fK2mP0aZx91',
		description: 'The ID of the QR code, as returned by Create or Get Many',
		displayOptions: { show },
	};
}

export const qrTypeOptions = [
	{ name: 'Email', value: 'email' },
	{ name: 'Phone', value: 'phone' },
	{ name: 'SMS', value: 'sms' },
	{ name: 'Text', value: 'text' },
	{ name: 'URL', value: 'url' },
	{ name: 'vCard', value: 'vcard' },
	{ name: 'Wi-Fi', value: 'wifi' },
];

export const contentHint =
	'Type-specific content as JSON. Text: {"text"}; Email: {"to", "subject", "body"}; Phone: {"number"}; SMS: {"number", "message"}; Wi-Fi: {"ssid", "password", "encryption": "WPA"|"WEP"|"nopass", "hidden"}; vCard: {"first_name", "last_name", "organization", "title", "phone", "email", "url", "address"}.';

export const statusOptions = [
	{ name: 'Active', value: 'active' },
	{ name: 'Paused', value: 'paused' },
];

/** Style and tag fields shared by Create and Update; each sends itself into the JSON body. */
export const styleAndTagFields: INodeProperties[] = [
	{
		displayName: 'Background Color',
		name: 'background',
		type: 'color',
		default: '#ffffff',
		routing: { send: { type: 'body', property: 'style.background' } },
	},
	{
		displayName: 'Error Correction',
		name: 'errorCorrection',
		type: 'options',
		options: [
			{ name: 'High (30%)', value: 'H' },
			{ name: 'Low (7%)', value: 'L' },
			{ name: 'Medium (15%)', value: 'M' },
			{ name: 'Quartile (25%)', value: 'Q' },
		],
		default: 'M',
		description: 'How much of the code may be damaged or covered and still scan',
		routing: { send: { type: 'body', property: 'style.error_correction' } },
	},
	{
		displayName: 'Foreground Color',
		name: 'foreground',
		type: 'color',
		default: '#000000',
		routing: { send: { type: 'body', property: 'style.foreground' } },
	},
	{
		displayName: 'Margin',
		name: 'margin',
		type: 'number',
		typeOptions: { minValue: 0, maxValue: 20 },
		default: 4,
		description: 'Quiet zone around the code, in modules',
		routing: { send: { type: 'body', property: 'style.margin' } },
	},
	{
		displayName: 'Status',
		name: 'status',
		type: 'options',
		options: statusOptions,
		default: 'active',
		description: 'Paused dynamic codes stop redirecting',
		routing: { send: { type: 'body', property: 'status' } },
	},
	{
		displayName: 'Tags',
		name: 'tags',
		type: 'string',
		typeOptions: { multipleValues: true, multipleValueButtonText: 'Add Tag' },
		default: [],
		description: 'Labels to group and filter codes; replaces the existing tags on update',
		routing: { send: { type: 'body', property: 'tags' } },
	},
];

/** Collection options in alphabetical order, as n8n lists them (shared ones mixed with an operation's own). */
export function sortedByName(options: INodeProperties[]): INodeProperties[] {
	return [...options].sort((a, b) => a.displayName.localeCompare(b.displayName));
}
