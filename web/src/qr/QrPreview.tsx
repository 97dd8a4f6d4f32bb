import { useEffect, useState } from 'preact/hooks';
import { withQuery } from '../api/client';
import type { QrStyle } from '../api/types';

/** Rendered at twice the size it is shown, so it stays sharp on high-density screens. */
const PREVIEW_PIXELS = 384;

/**
 * A live preview of what is being typed, in the chosen style: GET /api/v1/generate with the style's colours, margin
 * and error correction. The console sends no API key there (the session cookie is not accepted in that URL), so the
 * answer is the watermarked preview, which uses no image credit and no API call. Debounced, so typing or dragging a
 * colour picker does not run into the per-IP preview limit (60 a minute).
 */
export function QrPreview({ text, style }: { text: string; style: QrStyle }) {
  const [src, setSrc] = useState<string | null>(null);
  const { foreground, background, margin, error_correction } = style;
  useEffect(() => {
    if (!text) {
      setSrc(null);
      return;
    }
    const timer = setTimeout(
      () => setSrc(withQuery('/api/v1/generate', { data: text.slice(0, 2000), format: 'svg', size: PREVIEW_PIXELS, foreground, background, margin, error_correction })),
      400,
    );
    return () => clearTimeout(timer);
  }, [text, foreground, background, margin, error_correction]);
  return (
    <figure class="qr-preview">
      {src ? <img src={src} width={192} height={192} alt="Preview of the QR code (watermarked until saved)" /> : <div class="qr-placeholder">Fill in the content to see a preview</div>}
      <figcaption class="muted">Preview in the chosen style, watermarked (no image credit used); the saved code's image has no watermark.</figcaption>
    </figure>
  );
}
