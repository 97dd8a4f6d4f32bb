import type { INodeProperties } from 'n8n-workflow';
import { qrCodeIdField } from '../../shared/descriptions';

const showOnlyForAnalyticsGet = {
	resource: ['analytics'],
	operation: ['get'],
};

export const analyticsGetDescription: INodeProperties[] = [
	qrCodeIdField(showOnlyForAnalyticsGet),
	{
		displayName: 'Range',
		name: 'range',
		type: 'options',
		options: [
			{ name: 'Custom', value: 'custom' },
			{ name: 'Last 30 Days', value: 'last30Days' },
			{ name: 'Last 365 Days', value: 'last365Days' },
			{ name: 'Last 7 Days', value: 'last7Days' },
			{ name: 'Last 90 Days', value: 'last90Days' },
		],
		default: 'last30Days',
		description: 'Which scans to count',
		displayOptions: { show: showOnlyForAnalyticsGet },
	},
	{
		displayName: 'From',
		name: 'from',
		type: 'dateTime',
		required: true,
		default: '',
		description: 'Start of the range',
		displayOptions: { show: { ...showOnlyForAnalyticsGet, range: ['custom'] } },
	},
	{
		displayName: 'To',
		name: 'to',
		type: 'dateTime',
		default: '',
		description: 'End of the range; now when empty',
		displayOptions: { show: { ...showOnlyForAnalyticsGet, range: ['custom'] } },
	},
	{
		displayName: 'Interval',
		name: 'interval',
		type: 'options',
		options: [
			{ name: 'Day', value: 'day' },
			{ name: 'Month', value: 'month' },
			{ name: 'Week', value: 'week' },
		],
		default: 'day',
		description: 'Length of each period in the time series',
		displayOptions: { show: showOnlyForAnalyticsGet },
		routing: { send: { type: 'query', property: 'interval' } },
	},
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		displayOptions: { show: showOnlyForAnalyticsGet },
		options: [
			{
				displayName: 'Include Bots',
				name: 'includeBots',
				type: 'boolean',
				default: false,
				description: 'Whether to count scans by crawlers and link previewers',
				routing: { send: { type: 'query', property: 'include_bots' } },
			},
			{
				displayName: 'Timezone',
				name: 'timezone',
				type: 'string',
				default: 'UTC',
				placeholder: 'Europe/Berlin',
				description: 'IANA time zone the periods are cut in',
				routing: { send: { type: 'query', property: 'tz' } },
			},
		],
	},
];
