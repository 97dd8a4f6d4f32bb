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
			{ name: 'PDF', value: 'pdf', description: 'Vector, for print, sized in millimetres' },
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
		displayOptions: { show: { ...showOnlyForQrCodeGetImage, format: ['png', 'svg'] } },
	},
	{
		displayName: 'Print Size (Mm)',
		name: 'sizeMm',
		type: 'number',
		typeOptions: { minValue: 0, maxValue: 500 },
		default: 0,
		description: "Width and height of the printed code in millimetres (10 to 500); 0 for the server's default",
		displayOptions: { show: { ...showOnlyForQrCodeGetImage, format: ['pdf'] } },
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

const MIME_TYPES: Record<string, string> = { png: 'image/png', svg: 'image/svg+xml', pdf: 'application/pdf' };

/** Custom operation: fetches each item's image into the chosen binary field. */
export async function executeGetImage(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const items = this.getInputData();
	const returnData: INodeExecutionData[] = [];
	for (let itemIndex = 0; itemIndex < items.length; itemIndex++) {
		try {
			const qrCodeId = this.getNodeParameter('qrCodeId', itemIndex) as string;
			const format = this.getNodeParameter('format', itemIndex, 'png') as string;
			const size = this.getNodeParameter('size', itemIndex, 512) as number;
			const sizeMm = this.getNodeParameter('sizeMm', itemIndex, 0) as number;
			const binaryPropertyName = this.getNodeParameter('binaryPropertyName', itemIndex, 'data') as string;
			// A PDF is sized for print in millimetres; pixels mean nothing to it.
			const qs = format === 'pdf' ? { format, ...(sizeMm ? { size_mm: Math.min(500, Math.max(10, sizeMm)) } : {}) } : { format, size };

			const response = await qrflowApiRequest.call(this, {
				method: 'GET',
				path: `/api/v1/qr/${encodeURIComponent(qrCodeId)}/image`,
				qs,
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
				json: { id: qrCodeId, format, ...(format === 'pdf' ? { size_mm: sizeMm || null } : { size }), mime_type: contentType, file_name: fileName },
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
