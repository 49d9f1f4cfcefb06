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
  atlassian: () => import("./atlassian.ts"),
  brevo: () => import("./brevo.ts"),
  discord: () => import("./discord.ts"),
  dropbox: () => import("./dropbox.ts"),
  elevenlabs: () => import("./elevenlabs.ts"),
  github: () => import("./github.ts"),
  gitlab: () => import("./gitlab.ts"),
  google: () => import("./google.ts"),
  groq: () => import("./groq.ts"),
  hubspot: () => import("./hubspot.ts"),
  hunter: () => import("./hunter.ts"),
  linear: () => import("./linear.ts"),
  mailchimp: () => import("./mailchimp.ts"),
  microsoft: () => import("./microsoft.ts"),
  mistral: () => import("./mistral.ts"),
  notion: () => import("./notion.ts"),
  openai: () => import("./openai.ts"),
  perplexity: () => import("./perplexity.ts"),
  postmark: () => import("./postmark.ts"),
  resend: () => import("./resend.ts"),
  sendgrid: () => import("./sendgrid.ts"),
  spotify: () => import("./spotify.ts"),
  stripe: () => import("./stripe.ts"),
  typeform: () => import("./typeform.ts"),
  zoom: () => import("./zoom.ts"),
};
