import type { INodeProperties } from 'n8n-workflow';
import { addAnalyticsRange, unwrapData } from '../../shared/routing';
import { analyticsGetDescription } from './get';

const showOnlyForAnalytics = {
	resource: ['analytics'],
};

export const analyticsDescription: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: showOnlyForAnalytics },
		options: [
			{
				name: 'Get',
				value: 'get',
				action: 'Get scan analytics of a QR code',
				description: 'Get scan totals, a time series and breakdowns by country, region, city, device, A/B variant and more',
				routing: {
					send: { preSend: [addAnalyticsRange] },
					request: { method: 'GET', url: '=/api/v1/qr/{{$parameter.qrCodeId}}/analytics' },
					output: { postReceive: unwrapData },
				},
			},
		],
		default: 'get',
	},
	...analyticsGetDescription,
];
