/**
 * Every provider the Python authsome bundles is bundled here too, under the same name, and
 * `export` still prints the env variable names its file exported (refresh tokens aside: those
 * are never exported here, docs/providers.md). Where our definition deliberately differs, the
 * Python names stay as aliases, so scripts written for it keep working.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { bundledPlugins } from "../../plugins/index.ts";
import { validatePlugin } from "../../src/core/plugin-schema.ts";

// From github.com/manojbajaj95/authsome (also agentrhq/authsome), the 44 files
// src/authsome/auth/bundled_providers/*.json at b4d7795: name -> the env names their
// `export.env` maps from access_token or api_key.
const PYTHON_EXPORTS: Record<string, string[]> = {
  ahrefs: ["AHREFS_API_KEY"],
  apollo: ["APOLLO_API_KEY"],
  ashby: ["ASHBY_API_KEY"],
  atlassian: ["ATLASSIAN_ACCESS_TOKEN"],
  beehiiv: ["BEEHIIV_API_KEY"],
  brevo: ["BREVO_API_KEY"],
  buffer: ["BUFFER_API_KEY"],
  calendly: ["CALENDLY_API_KEY"],
  clearbit: ["CLEARBIT_API_KEY"],
  discord: ["DISCORD_ACCESS_TOKEN"],
  dub: ["DUB_API_KEY"],
  g2: ["G2_API_TOKEN"],
  github: ["GITHUB_ACCESS_TOKEN"],
  gitlab: ["GITLAB_ACCESS_TOKEN"],
  google: ["GOOGLE_ACCESS_TOKEN"],
  hubspot: ["HUBSPOT_ACCESS_TOKEN"],
  hunter: ["HUNTER_API_KEY"],
  instantly: ["INSTANTLY_API_KEY"],
  intercom: ["INTERCOM_API_KEY"],
  "keywords-everywhere": ["KEYWORDS_EVERYWHERE_API_KEY"],
  "klaviyo-oauth": ["KLAVIYO_OAUTH_ACCESS_TOKEN"],
  klaviyo: ["KLAVIYO_API_KEY"],
  lemlist: ["LEMLIST_API_KEY"],
  linear: ["LINEAR_ACCESS_TOKEN"],
  livestorm: ["LIVESTORM_API_TOKEN"],
  mailchimp: ["MAILCHIMP_API_KEY"],
  "mention-me": ["MENTIONME_API_KEY"],
  microsoft: ["MICROSOFT_ACCESS_TOKEN"],
  notion: ["NOTION_ACCESS_TOKEN"],
  openai: ["OPENAI_API_KEY"],
  optimizely: ["OPTIMIZELY_API_KEY"],
  postiz: ["POSTIZ_ACCESS_TOKEN"],
  postmark: ["POSTMARK_API_KEY"],
  resend: ["RESEND_API_KEY"],
  rewardful: ["REWARDFUL_API_KEY"],
  savvycal: ["SAVVYCAL_API_KEY"],
  semrush: ["SEMRUSH_API_KEY"],
  sendgrid: ["SENDGRID_API_KEY"],
  slack: ["SLACK_ACCESS_TOKEN"],
  tolt: ["TOLT_API_KEY"],
  typeform: ["TYPEFORM_API_KEY"],
  wistia: ["WISTIA_API_KEY"],
  x: ["X_ACCESS_TOKEN"],
  zapier: ["ZAPIER_API_KEY"],
};

test("the fixture is the Python authsome's whole bundled set", () => {
  assert.equal(Object.keys(PYTHON_EXPORTS).length, 44);
});

for (const [name, names] of Object.entries(PYTHON_EXPORTS)) {
  test(`${name}: bundled, and exports the Python env names`, async () => {
    const load = bundledPlugins[name];
    assert.ok(load, `no bundled plugin "${name}"`);
    const plugin = validatePlugin((await load()).default, `plugins/${name}.ts`);
    const field = plugin.authType === "oauth2" ? "access_token" : "api_key";
    for (const env of names) assert.equal(plugin.env?.[env], field, `${env} is not exported from ${field}`);
  });
}
