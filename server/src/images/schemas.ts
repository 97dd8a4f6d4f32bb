import { z } from 'zod';

/** An image body (PNG bytes, or SVG text), as the image routes send it. */
export const ImageBytes = z.string().meta({ format: 'binary' });
