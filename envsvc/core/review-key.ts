// The key in a review page's URL: an HMAC of the env id, so the link opens the page (which shows
// client data) without a session, and nothing needs storing to check it.
import { createHmac, timingSafeEqual } from "node:crypto";

export function reviewKey(secret: string, envId: string): string {
  return createHmac("sha256", secret).update(`review:${envId}`).digest("base64url").slice(0, 32);
}

export function isReviewKey(secret: string, envId: string, key: unknown): boolean {
  if (typeof key !== "string") return false;
  const want = Buffer.from(reviewKey(secret, envId));
  const got = Buffer.from(key);
  return got.length === want.length && timingSafeEqual(got, want);
}
