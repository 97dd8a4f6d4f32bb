import { NodeConnectionTypes, type INodeType, type INodeTypeDescription } from 'n8n-workflow';
import { analyticsDescription } from './resources/analytics';
import { qrCodeDescription } from './resources/qrCode';
import { executeCreateMany } from './resources/qrCode/createMany';
import { executeGetMany } from './resources/qrCode/getAll';
import { executeGetImage } from './resources/qrCode/getImage';
import { usageDescription } from './resources/usage';
import { getDomains } from './shared/domains';

/**
 * Declarative node: n8n builds each request from the `routing` in the resource files. The operations
 * that need code (cursor pagination, binary output, batching items into bulk calls) are custom operations.
 */
export class QrFlow implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'QRflow',
		name: 'qrFlow',
		icon: { light: 'file:../../icons/qrflow.svg', dark: 'file:../../icons/qrflow.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: '={{$parameter["operation"] + ": " + $parameter["resource"]}}',
		description: 'Create, update and render dynamic QR codes and read their scan analytics',
		defaults: {
			name: 'QRflow',
		},
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [
			{
				name: 'qrflowApi',
				required: true,
			},
		],
		requestDefaults: {
			baseURL: '={{$credentials.baseUrl}}',
			headers: {
				Accept: 'application/json',
				'Content-Type': 'application/json',
			},
			ignoreHttpStatusErrors: true,
		},
		properties: [
			{
				displayName: 'Resource',
				name: 'resource',
				type: 'options',
				noDataExpression: true,
				options: [
					{
						name: 'Analytic',
						value: 'analytics',
					},
					{
						name: 'QR Code',
						value: 'qrCode',
					},
					{
						name: 'Usage',
						value: 'usage',
					},
				],
				default: 'qrCode',
			},
			...qrCodeDescription,
			...analyticsDescription,
			...usageDescription,
		],
	};

	methods = {
		loadOptions: { getDomains },
	};

	customOperations = {
		qrCode: {
			createMany: executeCreateMany,
			getAll: executeGetMany,
			getImage: executeGetImage,
		},
	};
}
