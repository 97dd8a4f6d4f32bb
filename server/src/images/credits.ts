import type { Auth } from '../auth/auth.js';

/** Where image generation asks for and uses credits; the usage meter implements it. */
export interface ImageCredits {
  /** Throws when the month's image credits are used up. */
  assertAvailable(auth: Auth): void;
  /** Counts one generated image. */
  charge(auth: Auth): void;
}
