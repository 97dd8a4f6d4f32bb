import type { INodeProperties } from 'n8n-workflow';
import { qrCodeIdField } from '../../shared/descriptions';

const showOnlyForQrCodeGet = {
	resource: ['qrCode'],
	operation: ['get'],
};

export const qrCodeGetDescription: INodeProperties[] = [qrCodeIdField(showOnlyForQrCodeGet)];
