import type { INodeProperties } from 'n8n-workflow';
import { unwrapData } from '../../shared/routing';
import { usageGetDescription } from './get';

const showOnlyForUsage = {
	resource: ['usage'],
};

export const usageDescription: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: showOnlyForUsage },
		options: [
			{
				name: 'Get',
				value: 'get',
				action: 'Get usage of the workspace',
				description: 'Get API calls, image credits and rate limit of the current month',
				routing: {
					request: { method: 'GET', url: '/api/v1/usage' },
					output: { postReceive: unwrapData },
				},
			},
		],
		default: 'get',
	},
	...usageGetDescription,
];
