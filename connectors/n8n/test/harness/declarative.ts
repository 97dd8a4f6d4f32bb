import { randomUUID } from 'node:crypto';
import type {
	IDataObject,
	IExecuteFunctions,
	IExecuteSingleFunctions,
	IHttpRequestOptions,
	IN8nHttpFullResponse,
	INodeExecutionData,
	INodeProperties,
	INodePropertyOptions,
	INodePropertyRouting,
	INodeType,
	PostReceiveAction,
	NodeApiError,
	PreSendAction,
} from 'n8n-workflow';
import { createFakeContext, authenticate, type FakeContextOptions } from './contexts';
import { evaluate, evaluateDeep, type ExpressionScope } from './expressions';
import { httpRequest } from './http';
import { isVisible } from './parameters';

interface RequestPlan {
	options: IHttpRequestOptions & { qs: IDataObject; headers: IDataObject; body: IDataObject };
	preSend: PreSendAction[];
	postReceive: PostReceiveAction[];
}

function setPath(target: IDataObject, path: string, value: unknown) {
	const segments = path.split('.');
	let current = target;
	for (const segment of segments.slice(0, -1)) {
		current[segment] ??= {};
		current = current[segment] as IDataObject;
	}
	current[segments[segments.length - 1] ?? path] = value as IDataObject[string];
}

function applyRouting(plan: RequestPlan, routing: INodePropertyRouting | undefined, scope: ExpressionScope) {
	if (!routing) return;
	const { request, send, output } = routing;
	if (request) {
		const evaluated = evaluateDeep(request, scope);
		if (evaluated.method) plan.options.method = evaluated.method;
		if (evaluated.url) plan.options.url = evaluated.url;
		Object.assign(plan.options.qs, evaluated.qs);
		Object.assign(plan.options.headers, evaluated.headers);
		if (evaluated.body) Object.assign(plan.options.body, evaluated.body);
	}
	if (send) {
		if (send.property) {
			const value = send.value === undefined ? scope.value : evaluate(send.value, scope);
			const property = String(evaluate(send.property, scope));
			if (send.type === 'query') plan.options.qs[property] = value as IDataObject[string];
			else setPath(plan.options.body, property, value);
		}
		plan.preSend.push(...(send.preSend ?? []));
	}
	plan.postReceive.push(...(output?.postReceive ?? []));
}

/** Mirrors how n8n's RoutingNode walks visible properties, options and collections for routing. */
export function planRequest(nodeType: INodeType, parameters: Record<string, unknown>, credentials: IDataObject): RequestPlan {
	const { requestDefaults, properties } = nodeType.description;
	const scopeFor = (value?: unknown): ExpressionScope => ({ parameters, credentials, value });
	const defaults = evaluateDeep(requestDefaults ?? {}, scopeFor()) as IHttpRequestOptions;
	const plan: RequestPlan = {
		options: { ...defaults, url: defaults.url ?? '', qs: { ...(defaults.qs ?? {}) }, headers: { ...(defaults.headers ?? {}) }, body: {} },
		preSend: [],
		postReceive: [],
	};
	const walk = (property: INodeProperties, value: unknown) => {
		applyRouting(plan, property.routing, scopeFor(value));
		if (property.type === 'options') {
			const chosen = (property.options as INodePropertyOptions[] | undefined)?.find((option) => option.value === value);
			applyRouting(plan, chosen?.routing, scopeFor(value));
		}
		if (property.type === 'collection' && value && typeof value === 'object') {
			for (const option of (property.options ?? []) as INodeProperties[]) {
				const optionValue = (value as IDataObject)[option.name];
				if (optionValue !== undefined) walk(option, optionValue);
			}
		}
	};
	for (const property of properties) {
		if (!isVisible(property, parameters)) continue;
		walk(property, parameters[property.name]);
	}
	return plan;
}

async function runPostReceive(
	context: IExecuteSingleFunctions,
	actions: PostReceiveAction[],
	response: IN8nHttpFullResponse,
): Promise<INodeExecutionData[]> {
	let items: INodeExecutionData[] = [{ json: response.body as IDataObject }];
	for (const action of actions) {
		if (typeof action === 'function') {
			items = await action.call(context, items, response);
		} else if (action.type === 'rootProperty') {
			const property = String(action.properties.property);
			items = items.flatMap((item) => {
				const content = item.json[property];
				return (Array.isArray(content) ? content : [content]).map((json) => ({ json: json as IDataObject }));
			});
		} else {
			throw new Error(`harness does not implement postReceive type ${action.type}`);
		}
	}
	return items;
}

export interface RunResult {
	output: INodeExecutionData[][];
	/** The request options of each item as they went out (after preSend and authentication). */
	requests: IHttpRequestOptions[];
}

/**
 * Runs the node for the given items: custom operations through a fake IExecuteFunctions, the rest
 * by building the declarative request, running preSend/postReceive and honouring continueOnFail.
 */
export async function runNode(nodeType: INodeType, options: Omit<FakeContextOptions, 'properties'>): Promise<RunResult> {
	// Each run is a new execution, as in n8n, so default Idempotency-Keys differ between runs.
	const fullOptions: FakeContextOptions = {
		...options,
		executionId: options.executionId ?? `exec-${randomUUID()}`,
		properties: nodeType.description.properties,
	};
	const first = createFakeContext(fullOptions, { kind: 'execute' });
	const resource = String(first.parameters[0]?.resource);
	const operation = String(first.parameters[0]?.operation);
	const custom = nodeType.customOperations?.[resource]?.[operation];
	if (custom) {
		const output = (await custom.call(first.context as unknown as IExecuteFunctions)) as INodeExecutionData[][];
		return { output, requests: [] };
	}

	const requests: IHttpRequestOptions[] = [];
	const returnData: INodeExecutionData[] = [];
	for (let itemIndex = 0; itemIndex < options.items.length; itemIndex++) {
		const { context, parameters } = createFakeContext(fullOptions, { itemIndex });
		const single = context as unknown as IExecuteSingleFunctions;
		let failure: unknown;
		try {
			const plan = planRequest(nodeType, parameters[itemIndex] ?? {}, options.credentials as unknown as IDataObject);
			let requestOptions: IHttpRequestOptions = plan.options;
			for (const preSend of plan.preSend) requestOptions = await preSend.call(single, requestOptions);
			requestOptions = authenticate(options.credentials, { ...requestOptions, returnFullResponse: true });
			requests.push(requestOptions);
			const response = (await httpRequest(requestOptions)) as IN8nHttpFullResponse;
			const items = await runPostReceive(single, plan.postReceive, response);
			// n8n's engine pairs outputs to inputs by position when a node returns one item per input.
			returnData.push(...items.map((item) => ({ ...item, pairedItem: { item: itemIndex } })));
		} catch (error) {
			failure = error;
		}
		if (failure !== undefined) {
			// RoutingNode's behaviour: stop, or keep an empty item carrying the error.
			if (!options.continueOnFail) throw failure;
			returnData.push({ json: {}, error: failure as NodeApiError, pairedItem: { item: itemIndex } });
		}
	}
	return { output: [returnData], requests };
}
