/** Public entry `authsome/plugin`: what third-party plugin authors import. */
export { definePlugin } from "./core/plugin.ts";
export type {
  ApiKeyConfig,
  AuthType,
  CredentialField,
  FlowName,
  InjectionRule,
  OAuthConfig,
  ProviderPlugin,
} from "./core/plugin.ts";
