import { z } from 'zod';

/** A PNG image body. */
export const PngImage = z.string().meta({ format: 'binary', contentMediaType: 'image/png' });
/** An SVG image body (XML text). */
export const SvgImage = z.string().meta({ contentMediaType: 'image/svg+xml' });
