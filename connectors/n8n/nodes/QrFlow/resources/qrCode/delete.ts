import type { INodeProperties } from 'n8n-workflow';
import { qrCodeIdField } from '../../shared/descriptions';

const showOnlyForQrCodeDelete = {
	resource: ['qrCode'],
	operation: ['delete'],
};

export const qrCodeDeleteDescription: INodeProperties[] = [qrCodeIdField(showOnlyForQrCodeDelete)];
