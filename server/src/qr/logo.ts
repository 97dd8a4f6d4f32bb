import { createHash } from 'node:crypto';
import { iso } from '../clock.js';
import type { Context } from '../context.js';
import { NotFoundError, ValidationError } from '../errors.js';
import type { EventService } from '../events/service.js';
import { LogoRejectedError, type ImageRenderer, type RenderLogo } from '../images/renderer.js';
import type { LogoRecord, QrLogoInfo, QrRecord, WorkspaceRecord } from '../store/records.js';
import { StaleRecordError, type WriteOp } from '../store/store.js';
import type { QrView } from './schemas.js';
import type { QrService } from './service.js';

/** The largest logo accepted, in bytes (the body as sent). */
export const MAX_LOGO_BYTES = 256 * 1024;
export const LOGO_CONTENT_TYPES = ['image/png', 'image/svg+xml'] as const;
export type LogoContentType = (typeof LOGO_CONTENT_TYPES)[number];

/** Logos of branded codes: checked (and, for SVG, sanitised) on a render worker, kept beside the code. */
export class LogoService {
  constructor(
    private readonly ctx: Context,
    private readonly qr: QrService,
    private readonly events: EventService,
    private readonly renderer: ImageRenderer,
  ) {}

  /** Puts (or replaces) the logo of a code of the workspace; answers the code. */
  async put(workspace: WorkspaceRecord, id: string, body: Buffer, contentType: LogoContentType): Promise<QrView> {
    const qr = await this.qr.find(workspace, id);
    if (body.length === 0) throw new ValidationError('The body is empty: send the PNG or SVG logo as the request body.', [{ field: 'body', message: 'required' }], 'invalid_logo');
    let checked;
    try {
      checked = await this.renderer.checkLogo(body, contentType);
    } catch (error) {
      if (error instanceof LogoRejectedError) throw new ValidationError(`The logo was refused: ${error.message}`, [{ field: 'body', message: error.message }], 'invalid_logo');
      throw error;
    }
    const now = iso(this.ctx.clock.now());
    const info: QrLogoInfo = { content_type: checked.contentType, bytes: checked.bytes.length, sha256: createHash('sha256').update(checked.bytes).digest('base64url'), updated_at: now };
    const updated: QrRecord = { ...qr, logo: info, updated_at: now };
    // a logo draws the code at error correction H: a static code's content must still fit
    this.qr.assertFits(updated, 'body');
    const existing = await this.ctx.store.get('logos', qr.id);
    const record: LogoRecord = { id: qr.id, workspace_id: workspace.id, content_type: checked.contentType, data: checked.bytes.toString('base64'), created_at: existing?.created_at ?? now, updated_at: now };
    return this.commit(workspace, updated, [{ collection: 'logos', put: record }]);
  }

  /** Removes the logo of a code of the workspace (nothing to remove is not an error); answers the code. */
  async remove(workspace: WorkspaceRecord, id: string): Promise<QrView> {
    const qr = await this.qr.find(workspace, id);
    if (!qr.logo) return this.qr.view(qr);
    return this.commit(workspace, { ...qr, logo: null, updated_at: iso(this.ctx.clock.now()) }, [{ collection: 'logos', delete: qr.id }]);
  }

  /** The code's logo fields set, with the logo record and the event, in one commit; a code deleted meanwhile is a 404. */
  private async commit(workspace: WorkspaceRecord, updated: QrRecord, logoOps: WriteOp[]): Promise<QrView> {
    const view = await this.qr.view(updated);
    const { ops: eventOps } = await this.events.record(workspace.id, 'qr.updated', view);
    try {
      await this.ctx.store.commit([
        // only the logo fields: a concurrent change of other fields of the code stays
        { collection: 'qrcodes', update: updated.id, expect: { workspace_id: workspace.id }, set: { logo: updated.logo ?? null, updated_at: updated.updated_at } },
        ...logoOps,
        ...eventOps,
      ]);
    } catch (error) {
      if (error instanceof StaleRecordError) throw new NotFoundError('QR code');
      throw error;
    }
    return view;
  }

  /** The logo as the renderer takes it (its bytes read only when the image is not cached), or null. */
  forRender(qr: QrRecord): RenderLogo | null {
    const logo = qr.logo;
    if (!logo) return null;
    return {
      contentType: logo.content_type,
      sha256: logo.sha256,
      load: async () => {
        const record = await this.ctx.store.get('logos', qr.id);
        if (!record) throw new NotFoundError('logo');
        return Buffer.from(record.data, 'base64');
      },
    };
  }
}
