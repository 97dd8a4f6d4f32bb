import type { IDataObject, INodeExecutionData, IPollFunctions } from 'n8n-workflow';
import { qrflowApiRequest } from '../QrFlow/shared/transport';

const PAGE_SIZE = 100;
/** Safety net against an endless feed: at most this many pages per poll. */
const MAX_PAGES = 50;

export interface PollState {
	/** Id of the newest event already emitted, or the ISO time polling started. */
	after?: string;
}

interface EventsPage {
	data: IDataObject[];
	pagination?: { next_cursor?: string | null };
}

/** Shown in manual mode when the workspace has no event of the type yet, so fields can be mapped. */
export const SAMPLE_EVENTS: Record<string, IDataObject> = {
	'qr.created': {
		id: 'evt_sample',
		type: 'qr.created',
		created_at: '2026-11-23T10:00:00.000Z',
		data: {
			id: 'qr_8fK2mP0aZx91',
			name: 'Spring flyer',
			type: 'url',
			mode: 'dynamic',
			destination_url: 'https://example.com/spring',
			content: null,
			short_code: 'aB3dE9x',
			short_url: 'https://qr.example.com/r/aB3dE9x',
			status: 'active',
			tags: ['spring'],
			style: { foreground: '#000000', background: '#ffffff', margin: 4, error_correction: 'M' },
			created_at: '2026-11-23T10:00:00.000Z',
			updated_at: '2026-11-23T10:00:00.000Z',
			scan_count: 0,
		},
	},
	'qr.scanned': {
		id: 'evt_sample',
		type: 'qr.scanned',
		created_at: '2026-11-23T10:05:00.000Z',
		data: {
			id: 'scn_sample',
			qr_id: 'qr_8fK2mP0aZx91',
			qr_name: 'Spring flyer',
			scanned_at: '2026-11-23T10:05:00.000Z',
			country: 'US',
			device: 'mobile',
			os: 'iOS',
			browser: 'Mobile Safari',
			referrer: null,
			is_bot: false,
		},
	},
};

/** Reads every event after `after`, following the cursor; the feed is newest first. */
async function fetchEventsAfter(
	this: IPollFunctions,
	type: string,
	after: string,
): Promise<IDataObject[]> {
	const events: IDataObject[] = [];
	let cursor: string | undefined;
	for (let page = 0; page < MAX_PAGES; page++) {
		const qs: IDataObject = { type, after, limit: PAGE_SIZE };
		if (cursor) qs.cursor = cursor;
		const response = await qrflowApiRequest.call(this, { method: 'GET', path: '/api/v1/events', qs });
		const body = response.body as EventsPage;
		events.push(...body.data);
		cursor = body.pagination?.next_cursor ?? undefined;
		if (!cursor) break;
	}
	return events;
}

/** One poll: new events oldest first, or null when there is nothing new. */
export async function pollEvents(
	this: IPollFunctions,
	type: string,
	state: PollState,
): Promise<INodeExecutionData[][] | null> {
	if (this.getMode() === 'manual') {
		const response = await qrflowApiRequest.call(this, {
			method: 'GET',
			path: '/api/v1/events',
			qs: { type, limit: 1 },
		});
		const latest = (response.body as EventsPage).data[0] ?? SAMPLE_EVENTS[type];
		return latest ? [this.helpers.returnJsonArray([latest])] : null;
	}

	if (!state.after) {
		// First activation: start from now instead of replaying the whole history.
		state.after = new Date().toISOString();
		return null;
	}

	const events = await fetchEventsAfter.call(this, type, state.after);
	if (events.length === 0) return null;
	state.after = String(events[0]?.id);
	return [this.helpers.returnJsonArray(events.reverse())];
}
