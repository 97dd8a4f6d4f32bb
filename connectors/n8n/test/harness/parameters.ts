import type { INodeProperties } from 'n8n-workflow';

type Parameters = Record<string, unknown>;

function matches(condition: unknown[], value: unknown): boolean {
	return condition.some((expected) => expected === value);
}

/** Whether n8n would show a property for these parameters (show: all match; hide: any matches). */
export function isVisible(property: INodeProperties, parameters: Parameters): boolean {
	const { show, hide } = property.displayOptions ?? {};
	for (const [name, values] of Object.entries(show ?? {})) {
		if (!matches(values as unknown[], parameters[name])) return false;
	}
	for (const [name, values] of Object.entries(hide ?? {})) {
		if (matches(values as unknown[], parameters[name])) return false;
	}
	return true;
}

/** Fills in the defaults of visible properties the way n8n does when it loads a node. */
export function resolveParameters(properties: INodeProperties[], given: Parameters): Parameters {
	let resolved: Parameters = { ...given };
	// Visibility depends on other parameters (resource, operation, type), so settle it in passes.
	for (let pass = 0; pass < 3; pass++) {
		const next: Parameters = { ...given };
		for (const property of properties) {
			if (!isVisible(property, resolved)) continue;
			if (!(property.name in next)) next[property.name] = structuredClone(property.default);
		}
		resolved = next;
	}
	return resolved;
}

/** Reads `a.b` paths the way getNodeParameter does; undefined when absent. */
export function readPath(parameters: Parameters, path: string): unknown {
	let current: unknown = parameters;
	for (const segment of path.split('.')) {
		if (current === null || typeof current !== 'object') return undefined;
		current = (current as Parameters)[segment];
	}
	return current;
}
