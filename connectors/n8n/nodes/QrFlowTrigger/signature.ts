import { createHmac, timingSafeEqual } from 'node:crypto';

/** Deliveries older or newer than this are refused, as the qrflow contract recommends. */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

export type SignatureCheck = { valid: true } | { valid: false; reason: string };

/** Signs a payload the way qrflow does: hex HMAC-SHA256 of "<t>.<raw body>" keyed by the whole secret. */
export function signPayload(secret: string, timestamp: number, rawBody: string | Buffer): string {
	return createHmac('sha256', secret)
		.update(`${timestamp}.`)
		.update(rawBody)
		.digest('hex');
}

/** Checks a `QRflow-Signature: t=<unix seconds>,v1=<hex>` header against the raw request body. */
export function verifySignature(
	header: string | undefined,
	rawBody: string | Buffer,
	secret: string,
	nowSeconds = Math.floor(Date.now() / 1000),
): SignatureCheck {
	if (!header) return { valid: false, reason: 'missing QRflow-Signature header' };
	let timestamp: number | undefined;
	const candidates: string[] = [];
	for (const part of header.split(',')) {
		const [key, ...rest] = part.trim().split('=');
		const value = rest.join('=');
		if (key === 't') timestamp = Number(value);
		if (key === 'v1' && value) candidates.push(value);
	}
	if (timestamp === undefined || !Number.isInteger(timestamp) || candidates.length === 0) {
		return { valid: false, reason: 'malformed QRflow-Signature header' };
	}
	if (Math.abs(nowSeconds - timestamp) > SIGNATURE_TOLERANCE_SECONDS) {
		return { valid: false, reason: 'signature timestamp outside the tolerance' };
	}
	const expected = Buffer.from(signPayload(secret, timestamp, rawBody), 'hex');
	const matches = candidates.some((candidate) => {
		const given = Buffer.from(candidate, 'hex');
		return given.length === expected.length && timingSafeEqual(given, expected);
	});
	return matches ? { valid: true } : { valid: false, reason: 'signature does not match' };
}
