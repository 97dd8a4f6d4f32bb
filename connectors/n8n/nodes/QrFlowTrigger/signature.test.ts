import { describe, expect, it } from 'vitest';
import { signPayload, verifySignature } from './signature';

const secret = `whsec_${'s'.repeat(24)}`;
const body = '{"id":"evt_1","type":"qr.scanned"}';
const now = 1_795_000_000;

describe('QRflow-Signature verification', () => {
	it('accepts a fresh signature over the raw body keyed by the full secret', () => {
		const header = `t=${now},v1=${signPayload(secret, now, body)}`;
		expect(verifySignature(header, body, secret, now)).toEqual({ valid: true });
	});

	it('accepts a signature within five minutes and a header listing several v1 values', () => {
		const header = `t=${now - 299},v1=${'0'.repeat(64)},v1=${signPayload(secret, now - 299, body)}`;
		expect(verifySignature(header, Buffer.from(body), secret, now).valid).toBe(true);
	});

	it('rejects a missing header', () => {
		expect(verifySignature(undefined, body, secret, now)).toEqual({
			valid: false,
			reason: 'missing QRflow-Signature header',
		});
	});

	it('rejects a header without t or v1', () => {
		expect(verifySignature('v1=abc', body, secret, now).valid).toBe(false);
		expect(verifySignature(`t=${now}`, body, secret, now).valid).toBe(false);
	});

	it('rejects a signature older than five minutes, even if it matches', () => {
		const old = now - 301;
		const check = verifySignature(`t=${old},v1=${signPayload(secret, old, body)}`, body, secret, now);
		expect(check).toEqual({ valid: false, reason: 'signature timestamp outside the tolerance' });
	});

	it('rejects a body that was changed after signing', () => {
		const header = `t=${now},v1=${signPayload(secret, now, body)}`;
		expect(verifySignature(header, body.replace('scanned', 'created'), secret, now).valid).toBe(false);
	});

	it('rejects a signature made with the secret without its whsec_ prefix', () => {
		const header = `t=${now},v1=${signPayload(secret.replace('whsec_', ''), now, body)}`;
		expect(verifySignature(header, body, secret, now).valid).toBe(false);
	});
});
