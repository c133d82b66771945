// Standard Webhooks signing (https://www.standardwebhooks.com): the secret is `whsec_` + base64 of
// random bytes, and `webhook-signature` is `v1,` + base64 HMAC-SHA256 of "id.timestamp.body"
// keyed with the decoded bytes. Receivers verify it with any Standard Webhooks library.
import { createHmac, randomBytes } from 'node:crypto';

const PREFIX = 'whsec_';

/** A new signing secret: 32 random bytes (the specification asks for 24 to 64). */
export function newWebhookSecret(): string {
  return PREFIX + randomBytes(32).toString('base64');
}

/** The `webhook-signature` header value for one attempt. */
export function signWebhook(secret: string, msgId: string, timestampSeconds: number, body: string): string {
  const key = Buffer.from(secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : secret, 'base64');
  return `v1,${createHmac('sha256', key).update(`${msgId}.${timestampSeconds}.${body}`).digest('base64')}`;
}

/**
 * The three Standard Webhooks headers of one attempt, signed at `at` with each secret: several
 * signatures, space-separated, while a rotated-out secret is still honoured (the receiver accepts
 * any one that matches, so it can switch secrets without missing a delivery).
 */
export function webhookHeaders(secrets: string | readonly string[], msgId: string, at: Date, body: string): Record<string, string> {
  const ts = Math.floor(at.getTime() / 1000);
  const signatures = (typeof secrets === 'string' ? [secrets] : secrets).map((secret) => signWebhook(secret, msgId, ts, body));
  return { 'webhook-id': msgId, 'webhook-timestamp': String(ts), 'webhook-signature': signatures.join(' ') };
}
