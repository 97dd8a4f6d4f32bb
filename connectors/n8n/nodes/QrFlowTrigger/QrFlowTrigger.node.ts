import type {
	IDataObject,
	IHookFunctions,
	ILoadOptionsFunctions,
	INodePropertyOptions,
	INodeType,
	INodeTypeDescription,
	IPollFunctions,
	IWebhookFunctions,
	IWebhookResponseData,
	INodeExecutionData,
	JsonObject,
} from 'n8n-workflow';
import { NodeApiError, NodeConnectionTypes } from 'n8n-workflow';
import { asNodeError, qrflowApiData } from '../QrFlow/shared/transport';
import { pollEvents, type PollState } from './polling';
import { verifySignature } from './signature';

/** What the node keeps between activations (n8n persists it with the workflow). */
interface TriggerStaticData extends PollState {
	webhookId?: string;
	webhookSecret?: string;
}

const EVENT_LABELS: Record<string, string> = {
	'qr.created': 'QR Code Created',
	'qr.deleted': 'QR Code Deleted',
	'qr.scanned': 'QR Code Scanned',
	'qr.updated': 'QR Code Updated',
};

function staticDataOf(context: IHookFunctions | IWebhookFunctions | IPollFunctions): TriggerStaticData {
	return context.getWorkflowStaticData('node') as TriggerStaticData;
}

function isWebhookMode(context: IHookFunctions): boolean {
	return context.getNodeParameter('triggerMode', 'webhook') === 'webhook';
}

export class QrFlowTrigger implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'QRflow Trigger',
		name: 'qrFlowTrigger',
		icon: { light: 'file:../../icons/qrflow.svg', dark: 'file:../../icons/qrflow.dark.svg' },
		group: ['trigger'],
		version: 1,
		subtitle: '={{$parameter["triggerMode"] === "polling" ? $parameter["pollEvent"] : $parameter["events"].join(", ")}}',
		description: 'Starts the workflow when QR codes are scanned, created, updated or deleted in qrflow',
		defaults: {
			name: 'QRflow Trigger',
		},
		inputs: [],
		outputs: [NodeConnectionTypes.Main],
		credentials: [
			{
				name: 'qrflowApi',
				required: true,
			},
		],
		polling: true,
		webhooks: [
			{
				name: 'default',
				httpMethod: 'POST',
				responseMode: 'onReceived',
				// No path in polling mode: n8n then registers no webhook, and "Fetch Test Event" polls.
				path: '={{$parameter["triggerMode"] === "polling" ? undefined : "webhook"}}',
				ndvHideUrl: '={{$parameter["triggerMode"] === "polling"}}',
			},
		],
		properties: [
			{
				displayName: 'Trigger Mode',
				name: 'triggerMode',
				type: 'options',
				noDataExpression: true,
				options: [
					{
						name: 'Instant (Webhook)',
						value: 'webhook',
						description: 'The qrflow server calls n8n the moment an event happens; n8n must be reachable from the qrflow server',
					},
					{
						name: 'Polling',
						value: 'polling',
						description: 'The node asks qrflow for new events on the poll schedule; works behind firewalls',
					},
				],
				default: 'webhook',
			},
			{
				displayName: 'Event Names or IDs',
				name: 'events',
				type: 'multiOptions',
				required: true,
				typeOptions: { loadOptionsMethod: 'getEventTypes' },
				default: ['qr.scanned'],
				description:
					'The events to listen to. Choose from the list, or specify IDs using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
				displayOptions: { show: { triggerMode: ['webhook'] } },
			},
			{
				displayName: 'Event',
				name: 'pollEvent',
				type: 'options',
				options: [
					{ name: 'New QR Code', value: 'qr.created' },
					{ name: 'New Scan', value: 'qr.scanned' },
				],
				default: 'qr.scanned',
				displayOptions: { show: { triggerMode: ['polling'] } },
			},
		],
	};

	methods = {
		loadOptions: {
			async getEventTypes(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
				const types = (await qrflowApiData.call(this, {
					method: 'GET',
					path: '/api/v1/events/types',
				})) as unknown as string[];
				return types.map((type) => ({ name: EVENT_LABELS[type] ?? type, value: type }));
			},
		},
	};

	webhookMethods = {
		default: {
			async checkExists(this: IHookFunctions): Promise<boolean> {
				// In polling mode there is nothing to register; "exists" stops n8n calling create.
				if (!isWebhookMode(this)) return true;
				const staticData = staticDataOf(this);
				if (!staticData.webhookId || !staticData.webhookSecret) return false;
				try {
					const subscription = await qrflowApiData.call(this, {
						method: 'GET',
						path: `/api/v1/webhooks/${encodeURIComponent(staticData.webhookId)}`,
					});
					const wantedEvents = [...(this.getNodeParameter('events') as string[])].sort();
					const sameEvents =
						JSON.stringify([...((subscription.events as string[]) ?? [])].sort()) ===
						JSON.stringify(wantedEvents);
					if (subscription.url === this.getNodeWebhookUrl('default') && sameEvents) return true;
				} catch (error) {
					if ((error as NodeApiError).httpCode !== '404') throw asNodeError(this.getNode(), error);
					this.logger.info(`QRflow webhook ${staticData.webhookId} no longer exists; creating a new one`);
				}
				delete staticData.webhookId;
				delete staticData.webhookSecret;
				return false;
			},

			async create(this: IHookFunctions): Promise<boolean> {
				if (!isWebhookMode(this)) return true;
				const subscription = await qrflowApiData.call(this, {
					method: 'POST',
					path: '/api/v1/webhooks',
					body: {
						url: this.getNodeWebhookUrl('default'),
						events: this.getNodeParameter('events') as string[],
					},
				});
				if (!subscription.id || !subscription.secret) {
					throw new NodeApiError(this.getNode(), subscription as JsonObject, {
						message: 'qrflow did not return a webhook id and secret',
					});
				}
				const staticData = staticDataOf(this);
				staticData.webhookId = String(subscription.id);
				staticData.webhookSecret = String(subscription.secret);
				return true;
			},

			async delete(this: IHookFunctions): Promise<boolean> {
				const staticData = staticDataOf(this);
				if (staticData.webhookId) {
					try {
						await qrflowApiData.call(this, {
							method: 'DELETE',
							path: `/api/v1/webhooks/${encodeURIComponent(staticData.webhookId)}`,
						});
					} catch (error) {
						if ((error as NodeApiError).httpCode !== '404') {
							this.logger.error(`Could not delete QRflow webhook ${staticData.webhookId}`, { error });
							return false;
						}
						this.logger.info(`QRflow webhook ${staticData.webhookId} was already gone`);
					}
				}
				delete staticData.webhookId;
				delete staticData.webhookSecret;
				return true;
			},
		},
	};

	async webhook(this: IWebhookFunctions): Promise<IWebhookResponseData> {
		const request = this.getRequestObject();
		const { webhookSecret } = staticDataOf(this);
		const rawBody = (request as unknown as { rawBody?: Buffer }).rawBody ?? JSON.stringify(request.body ?? {});
		const check = webhookSecret
			? verifySignature(this.getHeaderData()['qrflow-signature'] as string | undefined, rawBody, webhookSecret)
			: ({ valid: false, reason: 'no webhook secret stored; reactivate the workflow' } as const);
		if (!check.valid) {
			this.logger.warn(`Rejected a QRflow delivery: ${check.reason}`);
			this.getResponseObject().status(401).json({ error: { code: 'invalid_signature', message: check.reason } });
			return { noWebhookResponse: true };
		}

		const event = this.getBodyData() as IDataObject;
		const wanted = this.getNodeParameter('events', []) as string[];
		if (wanted.length > 0 && !wanted.includes(String(event.type))) {
			return { webhookResponse: { received: true, ignored: true } };
		}
		return { workflowData: [this.helpers.returnJsonArray([event])] };
	}

	async poll(this: IPollFunctions): Promise<INodeExecutionData[][] | null> {
		if (this.getNodeParameter('triggerMode') !== 'polling') return null;
		const type = this.getNodeParameter('pollEvent') as string;
		return await pollEvents.call(this, type, staticDataOf(this));
	}
}
