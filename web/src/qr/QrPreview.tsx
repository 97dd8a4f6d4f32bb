import { useEffect, useState } from 'preact/hooks';
import { withQuery } from '../api/client';

/**
 * A live preview of what is being typed: GET /api/v1/generate without a key answers a watermarked image (no credit
 * used). Debounced, so typing does not run into the per-IP preview limit.
 */
export function QrPreview({ text }: { text: string }) {
  const [src, setSrc] = useState<string | null>(null);
  useEffect(() => {
    if (!text) {
      setSrc(null);
      return;
    }
    const timer = setTimeout(() => setSrc(withQuery('/api/v1/generate', { data: text.slice(0, 2000), format: 'svg', size: 256 })), 400);
    return () => clearTimeout(timer);
  }, [text]);
  return (
    <figure class="qr-preview">
      {src ? <img src={src} width={192} height={192} alt="Preview of the QR code (watermarked until saved)" /> : <div class="qr-placeholder">Fill in the content to see a preview</div>}
      <figcaption class="muted">Preview, watermarked; the saved code's image has no watermark.</figcaption>
    </figure>
  );
}
