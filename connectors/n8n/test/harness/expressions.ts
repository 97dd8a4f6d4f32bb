/**
 * The few n8n expression forms this package's descriptions use, evaluated without a sandbox.
 * Anything else throws, so a description that outgrows the harness fails loudly in tests.
 */
export interface ExpressionScope {
	parameters: Record<string, unknown>;
	credentials?: Record<string, unknown>;
	value?: unknown;
}

const REFERENCE =
	/^\$(parameter|credentials)(?:\??\.([A-Za-z_][\w]*)|\[["']([^"']+)["']\])$|^\$value$/;

function resolveReference(expression: string, scope: ExpressionScope): unknown {
	const trimmed = expression.trim();
	const match = REFERENCE.exec(trimmed);
	if (!match) throw new Error(`harness cannot evaluate expression {{${expression}}}`);
	if (trimmed === '$value') return scope.value;
	const source = match[1] === 'parameter' ? scope.parameters : (scope.credentials ?? {});
	return source[match[2] ?? match[3] ?? ''];
}

/** Evaluates `=...{{ }}...` strings; other values pass through unchanged. */
export function evaluate(value: unknown, scope: ExpressionScope): unknown {
	if (typeof value !== 'string' || !value.startsWith('=')) return value;
	const template = value.slice(1);
	const whole = /^\{\{([^{}]*)\}\}$/.exec(template.trim());
	if (whole) return resolveReference(whole[1] ?? '', scope);
	return template.replace(/\{\{([^{}]*)\}\}/g, (_all, expression: string) =>
		String(resolveReference(expression, scope)),
	);
}

/** Evaluates every string inside a plain object or array. */
export function evaluateDeep<T>(value: T, scope: ExpressionScope): T {
	if (Array.isArray(value)) return value.map((entry) => evaluateDeep(entry, scope)) as T;
	if (value && typeof value === 'object' && !Buffer.isBuffer(value)) {
		return Object.fromEntries(
			Object.entries(value).map(([key, entry]) => [key, evaluateDeep(entry, scope)]),
		) as T;
	}
	return evaluate(value, scope) as T;
}
