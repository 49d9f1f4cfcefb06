/**
 * Bundled provider plugins, loaded lazily: listing names costs nothing, and `get(name)` imports
 * one file. Adding a provider = its file plus one line here (a test checks this map against
 * the folder).
 */
import type { ProviderPlugin } from "../src/core/plugin.ts";

/** Provider name -> lazy import of its plugin module. */
export const bundledPlugins: Record<string, () => Promise<{ default: ProviderPlugin }>> = {
  anthropic: () => import("./anthropic.ts"),
  apollo: () => import("./apollo.ts"),
  brevo: () => import("./brevo.ts"),
  elevenlabs: () => import("./elevenlabs.ts"),
  groq: () => import("./groq.ts"),
  hunter: () => import("./hunter.ts"),
  mailchimp: () => import("./mailchimp.ts"),
  mistral: () => import("./mistral.ts"),
  openai: () => import("./openai.ts"),
  perplexity: () => import("./perplexity.ts"),
  postmark: () => import("./postmark.ts"),
  resend: () => import("./resend.ts"),
  sendgrid: () => import("./sendgrid.ts"),
  stripe: () => import("./stripe.ts"),
  typeform: () => import("./typeform.ts"),
};
