import type { Auth } from '../auth/auth.js';

/** Where image generation takes credits; the usage meter implements it. */
export interface ImageCredits {
  /**
   * Takes one image credit of the month, or throws (429 image_credits_exhausted) when they are used up. Check and
   * take are one step, atomic across processes when they share Redis, so concurrent renders cannot overspend.
   */
  take(auth: Auth): void | Promise<void>;
}
