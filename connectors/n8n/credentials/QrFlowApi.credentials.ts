import type {
	IAuthenticateGeneric,
	Icon,
	ICredentialTestRequest,
	ICredentialType,
	INodeProperties,
} from 'n8n-workflow';

export class QrFlowApi implements ICredentialType {
	name = 'qrflowApi';

	displayName = 'QRflow API';

	icon: Icon = { light: 'file:../icons/qrflow.svg', dark: 'file:../icons/qrflow.dark.svg' };

	documentationUrl = 'https://github.com/qrflow/qrflow/tree/main/connectors/n8n#credentials';

	properties: INodeProperties[] = [
		{
			displayName: 'API Key',
			name: 'apiKey',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
			placeholder: 'qr_live_...',
			description:
				'An API key from your qrflow workspace (Settings, API keys): qr_live_… for real data, qr_test_… for test mode. It needs the scopes of the operations you use: qr:read, qr:write, analytics:read, webhooks:write.',
		},
		{
			// n8n's declarative credential test can only fail, never annotate a success, so the mode is shown here,
			// beside the key it describes; GET /api/v1/me (the test below) answers "mode" too
			displayName:
				'Test mode: this key (qr_test_…) sees only the workspace’s test-mode codes, webhooks and events, and uses none of its monthly allowances',
			name: 'testModeNotice',
			type: 'notice',
			default: '',
			displayOptions: { show: { apiKey: [{ _cnd: { startsWith: 'qr_test_' } }] } },
		},
		{
			displayName: 'Base URL',
			name: 'baseUrl',
			type: 'string',
			default: 'http://localhost:8080',
			required: true,
			placeholder: 'https://qr.example.com',
			description: 'Where your qrflow server is reachable, without the /api/v1 path',
		},
	];

	authenticate: IAuthenticateGeneric = {
		type: 'generic',
		properties: {
			headers: {
				Authorization: '=Bearer {{$credentials.apiKey}}',
			},
		},
	};

	test: ICredentialTestRequest = {
		request: {
			baseURL: '={{$credentials.baseUrl}}',
			url: '/api/v1/me',
			method: 'GET',
		},
	};
}
