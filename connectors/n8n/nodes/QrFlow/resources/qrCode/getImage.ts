import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { asNodeError, qrflowApiRequest } from '../../shared/transport';
import { qrCodeIdField } from '../../shared/descriptions';

const showOnlyForQrCodeGetImage = {
	resource: ['qrCode'],
	operation: ['getImage'],
};

// No routing here: Get Image is a custom operation that writes binary data (see QrFlow.node.ts).
export const qrCodeGetImageDescription: INodeProperties[] = [
	qrCodeIdField(showOnlyForQrCodeGetImage),
	{
		displayName: 'Format',
		name: 'format',
		type: 'options',
		options: [
			{ name: 'PNG', value: 'png' },
			{ name: 'SVG', value: 'svg' },
		],
		default: 'png',
		displayOptions: { show: showOnlyForQrCodeGetImage },
	},
	{
		displayName: 'Size',
		name: 'size',
		type: 'number',
		typeOptions: { minValue: 64, maxValue: 2048 },
		default: 512,
		description: 'Width and height in pixels (64 to 2048)',
		displayOptions: { show: showOnlyForQrCodeGetImage },
	},
	{
		displayName: 'Put Output File in Field',
		name: 'binaryPropertyName',
		type: 'string',
		required: true,
		default: 'data',
		hint: 'The name of the output binary field to put the image in',
		displayOptions: { show: showOnlyForQrCodeGetImage },
	},
];

const MIME_TYPES: Record<string, string> = { png: 'image/png', svg: 'image/svg+xml' };

/** Custom operation: fetches each item's image into the chosen binary field. */
export async function executeGetImage(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const items = this.getInputData();
	const returnData: INodeExecutionData[] = [];
	for (let itemIndex = 0; itemIndex < items.length; itemIndex++) {
		try {
			const qrCodeId = this.getNodeParameter('qrCodeId', itemIndex) as string;
			const format = this.getNodeParameter('format', itemIndex, 'png') as string;
			const size = this.getNodeParameter('size', itemIndex, 512) as number;
			const binaryPropertyName = this.getNodeParameter('binaryPropertyName', itemIndex, 'data') as string;

			const response = await qrflowApiRequest.call(this, {
				method: 'GET',
				path: `/api/v1/qr/${encodeURIComponent(qrCodeId)}/image`,
				qs: { format, size },
				binary: true,
				itemIndex,
			});
			const contentType = String(response.headers['content-type'] ?? MIME_TYPES[format]).split(';')[0];
			const fileName = `${qrCodeId}.${format}`;
			const binaryData = await this.helpers.prepareBinaryData(
				Buffer.from(response.body as Buffer),
				fileName,
				contentType,
			);
			returnData.push({
				json: { id: qrCodeId, format, size, mime_type: contentType, file_name: fileName },
				binary: { [binaryPropertyName]: binaryData },
				pairedItem: { item: itemIndex },
			});
		} catch (error) {
			if (!this.continueOnFail()) throw asNodeError(this.getNode(), error, itemIndex);
			returnData.push({ json: { error: (error as Error).message }, pairedItem: { item: itemIndex } });
		}
	}
	return [returnData];
}
