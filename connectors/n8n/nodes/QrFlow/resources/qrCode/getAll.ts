import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { asNodeError, qrflowApiRequest } from '../../shared/transport';
import { statusOptions } from '../../shared/descriptions';

const showOnlyForQrCodeGetMany = {
	resource: ['qrCode'],
	operation: ['getAll'],
};

// No routing here: Get Many is a custom operation that follows the cursor (see QrFlow.node.ts).
export const qrCodeGetManyDescription: INodeProperties[] = [
	{
		displayName: 'Return All',
		name: 'returnAll',
		type: 'boolean',
		default: false,
		description: 'Whether to return all results or only up to a given limit',
		displayOptions: { show: showOnlyForQrCodeGetMany },
	},
	{
		displayName: 'Limit',
		name: 'limit',
		type: 'number',
		typeOptions: { minValue: 1 },
		default: 50,
		description: 'Max number of results to return',
		displayOptions: { show: { ...showOnlyForQrCodeGetMany, returnAll: [false] } },
	},
	{
		displayName: 'Filters',
		name: 'filters',
		type: 'collection',
		placeholder: 'Add Filter',
		default: {},
		displayOptions: { show: showOnlyForQrCodeGetMany },
		options: [
			{
				displayName: 'Mode',
				name: 'mode',
				type: 'options',
				options: [
					{ name: 'Dynamic', value: 'dynamic' },
					{ name: 'Static', value: 'static' },
				],
				default: 'dynamic',
			},
			{
				displayName: 'Search',
				name: 'search',
				type: 'string',
				default: '',
				description: 'Only codes whose name or destination contains this text',
			},
			{
				displayName: 'Status',
				name: 'status',
				type: 'options',
				options: statusOptions,
				default: 'active',
			},
			{
				displayName: 'Tag',
				name: 'tag',
				type: 'string',
				default: '',
				description: 'Only codes with this tag',
			},
		],
	},
];

const PAGE_SIZE_MAX = 100;

interface QrListPage {
	data: IDataObject[];
	pagination?: { has_more?: boolean; next_cursor?: string | null };
}

/** Lists codes for one item, following `pagination.next_cursor` until done or the limit is met. */
async function listQrCodes(this: IExecuteFunctions, itemIndex: number): Promise<IDataObject[]> {
	const returnAll = this.getNodeParameter('returnAll', itemIndex, false) as boolean;
	const limit = returnAll ? Infinity : (this.getNodeParameter('limit', itemIndex, 50) as number);
	const filters = this.getNodeParameter('filters', itemIndex, {}) as IDataObject;

	const codes: IDataObject[] = [];
	let cursor: string | undefined;
	do {
		const qs: IDataObject = { ...filters, limit: Math.min(PAGE_SIZE_MAX, limit - codes.length) };
		if (cursor) qs.cursor = cursor;
		const response = await qrflowApiRequest.call(this, {
			method: 'GET',
			path: '/api/v1/qr',
			qs,
			itemIndex,
		});
		const page = response.body as QrListPage;
		codes.push(...page.data);
		cursor = page.pagination?.next_cursor ?? undefined;
	} while (cursor && codes.length < limit);
	return codes.slice(0, limit);
}

/** Custom operation: n8n calls it once for all input items. */
export async function executeGetMany(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const items = this.getInputData();
	const returnData: INodeExecutionData[] = [];
	for (let itemIndex = 0; itemIndex < items.length; itemIndex++) {
		try {
			const codes = await listQrCodes.call(this, itemIndex);
			for (const code of codes) returnData.push({ json: code, pairedItem: { item: itemIndex } });
		} catch (error) {
			if (!this.continueOnFail()) throw asNodeError(this.getNode(), error, itemIndex);
			returnData.push({ json: { error: (error as Error).message }, pairedItem: { item: itemIndex } });
		}
	}
	return [returnData];
}
