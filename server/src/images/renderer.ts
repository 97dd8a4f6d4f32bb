import { createHash } from 'node:crypto';
import os from 'node:os';
import { Worker } from 'node:worker_threads';

export type ImageFormat = 'png' | 'svg' | 'pdf' | 'eps';
export type Shape = 'square' | 'rounded' | 'dots';

/** The content type of each image format. */
export const CONTENT_TYPES: Record<ImageFormat, string> = {
  png: 'image/png',
  svg: 'image/svg+xml',
  pdf: 'application/pdf',
  eps: 'application/postscript',
};

/** A logo as the renderer draws it: checked bytes, and a digest of them for the cache key. */
export interface RenderLogo {
  contentType: 'image/png' | 'image/svg+xml';
  sha256: string;
  /** Loaded only when the image is not in the cache. */
  load: () => Promise<Buffer>;
}

export interface RenderOptions {
  text: string;
  format: ImageFormat;
  /** Width in pixels (PNG, SVG). */
  size: number;
  /** Width in millimetres (PDF, EPS). */
  sizeMm?: number | undefined;
  foreground: string;
  background: string;
  margin: number;
  errorCorrection: 'L' | 'M' | 'Q' | 'H';
  moduleShape?: Shape | undefined;
  finderShape?: Shape | undefined;
  frame?: { text: string; color: string; text_color: string } | null | undefined;
  logo?: RenderLogo | null | undefined;
  watermark?: boolean;
}

/** A logo after the workers checked it (a PNG as sent, an SVG sanitised). */
export interface CheckedLogo {
  bytes: Buffer;
  contentType: 'image/png' | 'image/svg+xml';
  width: number;
  height: number;
  /** How many elements and attributes sanitising removed (SVG). */
  removed: number;
}

/** A logo the workers refused; the message says why, for the client. */
export class LogoRejectedError extends Error {}

export interface RenderedImage {
  bytes: Buffer;
  contentType: string;
  etag: string;
  /** True when this request made the image; false when it came from the cache. */
  generated: boolean;
}

type Task =
  | (Omit<RenderOptions, 'logo'> & { id: number; kind: 'render'; logo?: { contentType: string; bytes: Uint8Array } })
  | { id: number; kind: 'logo'; contentType: string; bytes: Uint8Array };

interface WorkerAnswer {
  id: number;
  bytes?: Uint8Array;
  error?: string;
  rejected?: boolean;
  logo?: Omit<CheckedLogo, 'bytes'>;
}

const CACHE_BYTES = 64 * 1024 * 1024;

/**
 * Renders QR images on a pool of worker threads (so a 512 px PNG never blocks the event loop), with an LRU cache
 * keyed on the encoded content and every option.
 */
export class ImageRenderer {
  private readonly workers: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly queue: Task[] = [];
  private readonly pending = new Map<number, { resolve: (answer: WorkerAnswer & { bytes: Uint8Array }) => void; reject: (error: Error) => void }>();
  private readonly cache = new Map<string, RenderedImage>();
  private readonly inFlight = new Map<string, Promise<RenderedImage>>();
  private cacheBytes = 0;
  private nextId = 1;

  constructor(size = Math.max(1, Math.min(4, os.availableParallelism()))) {
    for (let i = 0; i < size; i++) this.spawn();
  }

  private spawn(): void {
    const worker = new Worker(new URL('./render-worker.mjs', import.meta.url));
    worker.unref();
    worker.on('message', (message: WorkerAnswer) => {
      const waiter = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (message.bytes) waiter?.resolve(message as WorkerAnswer & { bytes: Uint8Array });
      else waiter?.reject(message.rejected ? new LogoRejectedError(message.error) : new Error(message.error ?? 'render failed'));
      this.idle.push(worker);
      this.pump();
    });
    worker.on('error', (error) => {
      // a crashed worker fails its task and is replaced
      for (const [id, waiter] of this.pending) {
        waiter.reject(error);
        this.pending.delete(id);
      }
      this.workers.splice(this.workers.indexOf(worker), 1);
      this.spawn();
      this.pump();
    });
    this.workers.push(worker);
    this.idle.push(worker);
  }

  private pump(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const worker = this.idle.pop() as Worker;
      worker.postMessage(this.queue.shift());
    }
  }

  private run(task: Task): Promise<WorkerAnswer & { bytes: Uint8Array }> {
    return new Promise((resolve, reject) => {
      this.pending.set(task.id, { resolve, reject });
      this.queue.push(task);
      this.pump();
    });
  }

  private async renderRaw(options: RenderOptions): Promise<Buffer> {
    const { logo, ...rest } = options;
    const logoBytes = logo ? await logo.load() : undefined;
    const answer = await this.run({
      ...rest,
      id: this.nextId++,
      kind: 'render',
      ...(logo && logoBytes ? { logo: { contentType: logo.contentType, bytes: logoBytes } } : {}),
    });
    return Buffer.from(answer.bytes.buffer, answer.bytes.byteOffset, answer.bytes.byteLength);
  }

  /** Checks an uploaded logo on a worker: a PNG is decoded, an SVG sanitised; throws LogoRejectedError when refused. */
  async checkLogo(bytes: Buffer, contentType: 'image/png' | 'image/svg+xml'): Promise<CheckedLogo> {
    const answer = await this.run({ id: this.nextId++, kind: 'logo', contentType, bytes: new Uint8Array(bytes) });
    const info = answer.logo!;
    return { ...info, bytes: Buffer.from(answer.bytes.buffer, answer.bytes.byteOffset, answer.bytes.byteLength) };
  }

  static cacheKey(options: RenderOptions): string {
    const print = options.format === 'pdf' || options.format === 'eps';
    return createHash('sha256')
      .update(
        JSON.stringify([
          options.text,
          options.format,
          print ? null : options.size,
          print ? (options.sizeMm ?? null) : null,
          options.foreground,
          options.background,
          options.margin,
          options.errorCorrection,
          Boolean(options.watermark),
          options.moduleShape ?? 'square',
          options.finderShape ?? 'square',
          options.frame ?? null,
          options.logo ? [options.logo.contentType, options.logo.sha256] : null,
        ]),
      )
      .digest('base64url');
  }

  /** Looks the image up in the cache without rendering it. */
  cached(options: RenderOptions): RenderedImage | undefined {
    const key = ImageRenderer.cacheKey(options);
    const hit = this.cache.get(key);
    if (!hit) return undefined;
    this.cache.delete(key);
    this.cache.set(key, hit);
    return { ...hit, generated: false };
  }

  /**
   * The image, from the cache or freshly rendered (identical concurrent requests share one render).
   * `beforeGenerate` runs only when this call starts a new render (identical requests arriving meanwhile share it,
   * and its outcome), so a credit is taken once per image rendered; if it throws or rejects, nothing is rendered.
   */
  async render(options: RenderOptions, beforeGenerate?: () => void | Promise<void>): Promise<RenderedImage> {
    const hit = this.cached(options);
    if (hit) return hit;
    const key = ImageRenderer.cacheKey(options);
    const shared = this.inFlight.get(key);
    if (shared) return { ...(await shared), generated: false };
    const before = beforeGenerate?.();
    const work = (before ? before.then(() => this.renderRaw(options)) : this.renderRaw(options)).then((bytes) => {
      const image: RenderedImage = { bytes, contentType: CONTENT_TYPES[options.format], etag: `"${key.slice(0, 27)}"`, generated: true };
      this.cache.set(key, image);
      this.cacheBytes += bytes.length;
      for (const [oldKey, old] of this.cache) {
        if (this.cacheBytes <= CACHE_BYTES) break;
        this.cache.delete(oldKey);
        this.cacheBytes -= old.bytes.length;
      }
      return image;
    });
    this.inFlight.set(key, work);
    try {
      return await work;
    } finally {
      this.inFlight.delete(key);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }
}
