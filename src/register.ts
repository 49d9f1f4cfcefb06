/**
 * The composition root's wiring (every entry imports it: src/index.ts, src/cli/main.ts,
 * src/intercept/index.ts): the flows and the server's local secret form register into core as
 * loaders, so core imports neither src/flows/ nor src/server/ and nothing is loaded until a
 * login, refresh or revoke needs it.
 */
import { registerSecretForm } from "./core/flow-registry.ts";
import { registerFlows } from "./flows/register.ts";

registerFlows();
registerSecretForm(async () => (await import("./server/api-key-form.ts")).collectSecretWithForm);
