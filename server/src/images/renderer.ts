import { createHash } from 'node:crypto';
import os from 'node:os';
import { Worker } from 'node:worker_threads';

export interface RenderOptions {
  text: string;
  format: 'png' | 'svg';
  size: number;
  foreground: string;
  background: string;
  margin: number;
  errorCorrection: 'L' | 'M' | 'Q' | 'H';
  watermark?: boolean;
}

export interface RenderedImage {
  bytes: Buffer;
  contentType: string;
  etag: string;
  /** True when this request made the image; false when it came from the cache. */
  generated: boolean;
}

interface Task extends RenderOptions {
  id: number;
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
  private readonly pending = new Map<number, { resolve: (bytes: Buffer) => void; reject: (error: Error) => void }>();
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
    worker.on('message', (message: { id: number; bytes?: Uint8Array; error?: string }) => {
      const waiter = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (message.bytes) waiter?.resolve(Buffer.from(message.bytes.buffer, message.bytes.byteOffset, message.bytes.byteLength));
      else waiter?.reject(new Error(message.error ?? 'render failed'));
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

  private renderRaw(options: RenderOptions): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      this.pending.set(id, { resolve, reject });
      this.queue.push({ ...options, id });
      this.pump();
    });
  }

  static cacheKey(options: RenderOptions): string {
    return createHash('sha256')
      .update(JSON.stringify([options.text, options.format, options.size, options.foreground, options.background, options.margin, options.errorCorrection, Boolean(options.watermark)]))
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
      const image: RenderedImage = { bytes, contentType: options.format === 'svg' ? 'image/svg+xml' : 'image/png', etag: `"${key.slice(0, 27)}"`, generated: true };
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
