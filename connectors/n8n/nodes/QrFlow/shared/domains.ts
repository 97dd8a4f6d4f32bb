import type { IDataObject, ILoadOptionsFunctions, INodeProperties, INodePropertyOptions } from 'n8n-workflow';
import { qrflowApiData } from './transport';

/** The Domain option of Create and Create Many: the workspace's verified custom domains. */
export const domainOption: INodeProperties = {
	displayName: 'Domain Name or ID',
	name: 'domain',
	type: 'options',
	typeOptions: { loadOptionsMethod: 'getDomains' },
	default: '',
	description:
		'A verified custom domain to serve the short link on (dynamic codes). Choose from the list, or specify an ID using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
	routing: { send: { type: 'body', property: 'domain' } },
};

/** loadOptions: `GET /api/v1/domains`, verified ones only (a pending domain cannot carry a code), by hostname. */
export async function getDomains(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
	const domains = (await qrflowApiData.call(this, { method: 'GET', path: '/api/v1/domains' })) as unknown as IDataObject[];
	return domains
		.filter((domain) => domain.status === 'verified')
		.map((domain) => ({ name: String(domain.hostname), value: String(domain.hostname) }))
		.sort((a, b) => a.name.localeCompare(b.name));
}
