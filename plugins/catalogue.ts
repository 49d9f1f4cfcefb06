/**
 * Every bundled plugin in one module, imported by plugins/index.ts on first use (why: the
 * comment there). Each provider still has its own file.
 */
import type { ProviderPlugin } from "../src/core/plugin.ts";
import ahrefs from "./ahrefs.ts";
import airtable from "./airtable.ts";
import anthropic from "./anthropic.ts";
import apify from "./apify.ts";
import apollo from "./apollo.ts";
import asana from "./asana.ts";
import ashby from "./ashby.ts";
import assemblyai from "./assemblyai.ts";
import atlassian from "./atlassian.ts";
import attio from "./attio.ts";
import aws from "./aws.ts";
import azure from "./azure.ts";
import azureOpenai from "./azure-openai.ts";
import beehiiv from "./beehiiv.ts";
import bitbucket from "./bitbucket.ts";
import box from "./box.ts";
import braveSearch from "./brave-search.ts";
import brevo from "./brevo.ts";
import browserbase from "./browserbase.ts";
import buffer from "./buffer.ts";
import calendly from "./calendly.ts";
import cerebras from "./cerebras.ts";
import circleci from "./circleci.ts";
import clearbit from "./clearbit.ts";
import clickup from "./clickup.ts";
import cloudflare from "./cloudflare.ts";
import cloudflareR2 from "./cloudflare-r2.ts";
import cohere from "./cohere.ts";
import datadog from "./datadog.ts";
import deepgram from "./deepgram.ts";
import deepseek from "./deepseek.ts";
import digitalocean from "./digitalocean.ts";
import discord from "./discord.ts";
import discordBot from "./discord-bot.ts";
import dockerHub from "./docker-hub.ts";
import dropbox from "./dropbox.ts";
import dub from "./dub.ts";
import elevenlabs from "./elevenlabs.ts";
import exa from "./exa.ts";
import fal from "./fal.ts";
import figma from "./figma.ts";
import firecrawl from "./firecrawl.ts";
import fireworks from "./fireworks.ts";
import fly from "./fly.ts";
import freshdesk from "./freshdesk.ts";
import g2 from "./g2.ts";
import gemini from "./gemini.ts";
import github from "./github.ts";
import gitlab from "./gitlab.ts";
import google from "./google.ts";
import googleCloud from "./google-cloud.ts";
import grafana from "./grafana.ts";
import groq from "./groq.ts";
import heroku from "./heroku.ts";
import hetzner from "./hetzner.ts";
import hubspot from "./hubspot.ts";
import huggingface from "./huggingface.ts";
import hunter from "./hunter.ts";
import instantly from "./instantly.ts";
import intercom from "./intercom.ts";
import jina from "./jina.ts";
import jira from "./jira.ts";
import keywordsEverywhere from "./keywords-everywhere.ts";
import klaviyo from "./klaviyo.ts";
import klaviyoOauth from "./klaviyo-oauth.ts";
import langsmith from "./langsmith.ts";
import lemlist from "./lemlist.ts";
import linear from "./linear.ts";
import livestorm from "./livestorm.ts";
import mailchimp from "./mailchimp.ts";
import mailgun from "./mailgun.ts";
import mentionMe from "./mention-me.ts";
import microsoft from "./microsoft.ts";
import miro from "./miro.ts";
import mistral from "./mistral.ts";
import mixpanel from "./mixpanel.ts";
import monday from "./monday.ts";
import neon from "./neon.ts";
import netlify from "./netlify.ts";
import notion from "./notion.ts";
import npm from "./npm.ts";
import nvidia from "./nvidia.ts";
import openai from "./openai.ts";
import openrouter from "./openrouter.ts";
import optimizely from "./optimizely.ts";
import pagerduty from "./pagerduty.ts";
import paypal from "./paypal.ts";
import perplexity from "./perplexity.ts";
import pinecone from "./pinecone.ts";
import pipedrive from "./pipedrive.ts";
import posthog from "./posthog.ts";
import postiz from "./postiz.ts";
import postmark from "./postmark.ts";
import railway from "./railway.ts";
import reddit from "./reddit.ts";
import render from "./render.ts";
import replicate from "./replicate.ts";
import resend from "./resend.ts";
import rewardful from "./rewardful.ts";
import salesforce from "./salesforce.ts";
import savvycal from "./savvycal.ts";
import segment from "./segment.ts";
import semrush from "./semrush.ts";
import sendgrid from "./sendgrid.ts";
import sentry from "./sentry.ts";
import serpapi from "./serpapi.ts";
import shopify from "./shopify.ts";
import slack from "./slack.ts";
import spotify from "./spotify.ts";
import square from "./square.ts";
import stability from "./stability.ts";
import stripe from "./stripe.ts";
import supabase from "./supabase.ts";
import tailscale from "./tailscale.ts";
import tavily from "./tavily.ts";
import telegram from "./telegram.ts";
import todoist from "./todoist.ts";
import together from "./together.ts";
import tolt from "./tolt.ts";
import trello from "./trello.ts";
import twilio from "./twilio.ts";
import typeform from "./typeform.ts";
import vercel from "./vercel.ts";
import voyage from "./voyage.ts";
import wistia from "./wistia.ts";
import x from "./x.ts";
import xai from "./xai.ts";
import zapier from "./zapier.ts";
import zendesk from "./zendesk.ts";
import zoom from "./zoom.ts";

/** Bundled plugins by name. */
export const catalogue: Record<string, ProviderPlugin> = {
  ahrefs,
  airtable,
  anthropic,
  apify,
  apollo,
  asana,
  ashby,
  assemblyai,
  atlassian,
  attio,
  aws,
  azure,
  "azure-openai": azureOpenai,
  beehiiv,
  bitbucket,
  box,
  "brave-search": braveSearch,
  brevo,
  browserbase,
  buffer,
  calendly,
  cerebras,
  circleci,
  clearbit,
  clickup,
  cloudflare,
  "cloudflare-r2": cloudflareR2,
  cohere,
  datadog,
  deepgram,
  deepseek,
  digitalocean,
  discord,
  "discord-bot": discordBot,
  "docker-hub": dockerHub,
  dropbox,
  dub,
  elevenlabs,
  exa,
  fal,
  figma,
  firecrawl,
  fireworks,
  fly,
  freshdesk,
  g2,
  gemini,
  github,
  gitlab,
  google,
  "google-cloud": googleCloud,
  grafana,
  groq,
  heroku,
  hetzner,
  hubspot,
  huggingface,
  hunter,
  instantly,
  intercom,
  jina,
  jira,
  "keywords-everywhere": keywordsEverywhere,
  klaviyo,
  "klaviyo-oauth": klaviyoOauth,
  langsmith,
  lemlist,
  linear,
  livestorm,
  mailchimp,
  mailgun,
  "mention-me": mentionMe,
  microsoft,
  miro,
  mistral,
  mixpanel,
  monday,
  neon,
  netlify,
  notion,
  npm,
  nvidia,
  openai,
  openrouter,
  optimizely,
  pagerduty,
  paypal,
  perplexity,
  pinecone,
  pipedrive,
  posthog,
  postiz,
  postmark,
  railway,
  reddit,
  render,
  replicate,
  resend,
  rewardful,
  salesforce,
  savvycal,
  segment,
  semrush,
  sendgrid,
  sentry,
  serpapi,
  shopify,
  slack,
  spotify,
  square,
  stability,
  stripe,
  supabase,
  tailscale,
  tavily,
  telegram,
  todoist,
  together,
  tolt,
  trello,
  twilio,
  typeform,
  vercel,
  voyage,
  wistia,
  x,
  xai,
  zapier,
  zendesk,
  zoom,
};
