/**
 * Public entry `authsome-broker/plugin` (`authsome/plugin` also resolves in plugin files): what
 * third-party plugin authors import.
 */
export { definePlugin } from "./core/plugin.ts";
export type {
  ApiKeyConfig,
  AuthType,
  CredentialField,
  FlowName,
  InjectionRule,
  OAuthConfig,
  ProviderPlugin,
  SignHook,
  SignRequest,
  SignResult,
  SigV4Config,
} from "./core/plugin.ts";
