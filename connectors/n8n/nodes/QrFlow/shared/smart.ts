import type { IDataObject, INode, INodeProperties } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

/**
 * Smart dynamic codes: redirect rules, an A/B split, a schedule, a scan limit, a password and UTM parameters.
 * The fields live in the Create and Update collections; `smartBody` turns them into the API's members, for the
 * declarative operations (through a preSend hook) and for Create Many alike.
 */

const SIMPLE_CONDITIONS = [
	{ name: 'Country', value: 'country', description: 'ISO country codes such as DE, AT' },
	{ name: 'Device', value: 'device', description: 'Mobile, tablet or desktop' },
	{ name: 'Language', value: 'language', description: 'Primary language tags such as de, fr' },
	{ name: 'Operating System', value: 'os', description: 'Such as iOS, Android, Windows, macOS, Linux' },
];

const UTM_FIELDS = [
	{ name: 'source', displayName: 'UTM Source', placeholder: 'flyer' },
	{ name: 'medium', displayName: 'UTM Medium', placeholder: 'print' },
	{ name: 'campaign', displayName: 'UTM Campaign', placeholder: 'spring-sale' },
	{ name: 'term', displayName: 'UTM Term', placeholder: 'running shoes' },
	{ name: 'content', displayName: 'UTM Content', placeholder: 'back-page' },
] as const;

/** The settings Update can remove, each sent as null. */
const REMOVABLE = [
	{ name: 'A/B Variants', value: 'variants' },
	{ name: 'Expired URL', value: 'expired_url' },
	{ name: 'Max Scans', value: 'max_scans' },
	{ name: 'Password', value: 'password' },
	{ name: 'Redirect Rules', value: 'redirect_rules' },
	{ name: 'UTM Parameters', value: 'utm' },
	{ name: 'Valid From', value: 'valid_from' },
	{ name: 'Valid Until', value: 'valid_until' },
];

/** The smart-code options of the Create (Additional Fields) and Update (Update Fields) collections. */
export function smartFieldOptions({ forUpdate = false } = {}): INodeProperties[] {
	const keep = forUpdate ? ' Replaces the current setting.' : '';
	const options: INodeProperties[] = [
		{
			displayName: 'A/B Variants',
			name: 'variants',
			type: 'fixedCollection',
			typeOptions: { multipleValues: true },
			placeholder: 'Add Variant',
			default: {},
			description: `Split scans between 2 to 10 URLs by weight, when no rule matched; a returning visitor gets the same variant all day.${keep}`,
			options: [
				{
					displayName: 'Variant',
					name: 'variant',
					values: [
						{ displayName: 'URL', name: 'url', type: 'string', default: '', placeholder: 'https://example.com/a' },
						{ displayName: 'Weight', name: 'weight', type: 'number', typeOptions: { minValue: 0 }, default: 50 },
					],
				},
			],
		},
		{
			displayName: 'Expired URL',
			name: 'expiredUrl',
			type: 'string',
			default: '',
			placeholder: 'https://example.com/offer-ended',
			description: 'Where scans go before Valid From, after Valid Until or past Max Scans; without it they see an "expired" page',
		},
		{
			displayName: 'Max Scans',
			name: 'maxScans',
			type: 'number',
			typeOptions: { minValue: 1 },
			default: 1000,
			description: 'After this many scans (bots not counted) scans go to the Expired URL',
		},
		{
			displayName: 'Password',
			name: 'password',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			description: 'A scan asks for this password (8 to 128 characters) before it redirects; qrflow keeps only a hash',
		},
		{
			displayName: 'Redirect Rules',
			name: 'redirectRules',
			type: 'fixedCollection',
			typeOptions: { multipleValues: true, sortable: true },
			placeholder: 'Add Rule',
			default: {},
			description: `Send scans to another URL by device, operating system, country or language; the first matching rule wins.${keep}`,
			options: [
				{
					displayName: 'Rule',
					name: 'rule',
					values: [
						{ displayName: 'Condition', name: 'condition', type: 'options', options: SIMPLE_CONDITIONS, default: 'device' },
						{
							displayName: 'Values',
							name: 'values',
							type: 'string',
							default: '',
							placeholder: 'mobile, tablet',
							description: 'Comma-separated values the rule matches, e.g. "mobile", "iOS" or "DE, AT"',
						},
						{ displayName: 'URL', name: 'url', type: 'string', default: '', placeholder: 'https://example.com/app' },
					],
				},
			],
		},
		{
			displayName: 'Redirect Rules (JSON)',
			name: 'redirectRulesJson',
			type: 'json',
			default: '[]',
			description:
				'The full rule list as JSON, exactly as the API takes redirect_rules, for what the simple rules cannot say (several conditions per rule, "query" and "time" conditions). Use either this or Redirect Rules.',
		},
		...UTM_FIELDS.map(
			({ name, displayName, placeholder }): INodeProperties => ({
				displayName,
				name: `utm${name[0]?.toUpperCase()}${name.slice(1)}`,
				type: 'string',
				default: '',
				placeholder,
				description: `Added to the destination as utm_${name}; a utm_${name} already on the URL wins`,
			}),
		),
		{
			displayName: 'Valid From',
			name: 'validFrom',
			type: 'dateTime',
			default: '',
			description: 'Before this time scans go to the Expired URL',
		},
		{
			displayName: 'Valid Until',
			name: 'validUntil',
			type: 'dateTime',
			default: '',
			description: 'From this time on scans go to the Expired URL',
		},
	];
	if (forUpdate) {
		options.push({
			displayName: 'Remove Settings',
			name: 'removeSettings',
			type: 'multiOptions',
			options: REMOVABLE,
			default: [],
			description: 'Settings to take off the code; removing wins over a value given here',
		});
	}
	return options;
}

/** Where a bad option is reported: the node and the item, so n8n shows which input it came from. */
export interface ErrorTarget {
	node: INode;
	itemIndex: number;
}

function fail(target: ErrorTarget, message: string): never {
	throw new NodeOperationError(target.node, message, { itemIndex: target.itemIndex });
}

function present(value: unknown): boolean {
	return value !== undefined && value !== null && value !== '';
}

function list(value: unknown): string[] {
	if (!present(value)) return [];
	const items = Array.isArray(value) ? value : String(value).split(',');
	return items.map((item) => String(item).trim()).filter(Boolean);
}

function normalizeValue(condition: string, value: string): string {
	if (condition === 'country') return value.toUpperCase();
	if (condition === 'device' || condition === 'language') return value.toLowerCase();
	return value;
}

function parseRulesJson(target: ErrorTarget, raw: unknown): unknown[] | undefined {
	if (!present(raw)) return undefined;
	let parsed = raw;
	if (typeof raw === 'string') {
		try {
			parsed = JSON.parse(raw);
		} catch {
			fail(target, 'Redirect Rules (JSON) is not valid JSON');
		}
	}
	if (!Array.isArray(parsed)) fail(target, 'Redirect Rules (JSON) must be a JSON array');
	return parsed.length ? parsed : undefined;
}

function isoTime(target: ErrorTarget, value: unknown, label: string): string {
	const time = Date.parse(String(value));
	if (Number.isNaN(time)) fail(target, `${label} is not a date and time: "${String(value)}"`);
	return new Date(time).toISOString();
}

/** The API members for the smart options of a Create or Update collection; empty options send nothing. */
export function smartBody(target: ErrorTarget, fields: IDataObject, { forUpdate = false } = {}): IDataObject {
	const body: IDataObject = {};
	const simple = ((fields.redirectRules as IDataObject | undefined)?.rule as IDataObject[] | undefined) ?? [];
	const rules = simple
		.filter((rule) => present(rule.values) || present(rule.url))
		.map((rule, index) => {
			const condition = String(rule.condition ?? 'device');
			const values = list(rule.values);
			if (!values.length || !present(rule.url)) {
				fail(target, `Redirect rule ${index + 1} needs at least one value and a URL`);
			}
			return { url: String(rule.url).trim(), conditions: [{ type: condition, in: values.map((value) => normalizeValue(condition, value)) }] };
		});
	const jsonRules = parseRulesJson(target, fields.redirectRulesJson);
	if (jsonRules && rules.length) fail(target, 'Use either Redirect Rules or Redirect Rules (JSON), not both');
	if (jsonRules) body.redirect_rules = jsonRules as IDataObject[];
	else if (rules.length) body.redirect_rules = rules;

	const variants = (((fields.variants as IDataObject | undefined)?.variant as IDataObject[] | undefined) ?? [])
		.filter((variant) => present(variant.url))
		.map((variant) => ({ url: String(variant.url).trim(), weight: Number(variant.weight ?? 1) }));
	if (variants.length) body.variants = variants;

	if (present(fields.validFrom)) body.valid_from = isoTime(target, fields.validFrom, 'Valid From');
	if (present(fields.validUntil)) body.valid_until = isoTime(target, fields.validUntil, 'Valid Until');
	if (present(fields.maxScans)) body.max_scans = Number(fields.maxScans);
	if (present(fields.expiredUrl)) body.expired_url = String(fields.expiredUrl).trim();
	if (present(fields.password)) body.password = String(fields.password);
	const utm: IDataObject = {};
	for (const { name } of UTM_FIELDS) {
		const value = fields[`utm${name[0]?.toUpperCase()}${name.slice(1)}`];
		if (present(value)) utm[name] = String(value).trim();
	}
	if (Object.keys(utm).length) body.utm = utm;
	if (forUpdate) {
		for (const setting of list(fields.removeSettings)) {
			if (REMOVABLE.some((option) => option.value === setting)) body[setting] = null;
		}
	}
	return body;
}
