/**
 * The `authsome-broker` library (JSR: `@authsome/broker`): `createAuthService()` for credentials
 * in code, `AuthsomeError` for failures with stable codes, and the plugin types.
 */
import "./register.ts";

export { AuthService, createAuthService } from "./core/auth-service.ts";
export { AuthsomeError, ERROR_CODES, type ErrorCode } from "./core/errors.ts";
export type { ServiceOptions } from "./core/context.ts";
export type { ConnectionOptions, LoginOptions } from "./core/service.ts";
export type { ConnectionView, ProviderView } from "./core/views.ts";
export { definePlugin } from "./core/plugin.ts";
export type { ProviderPlugin, InjectionRule, OAuthConfig, ApiKeyConfig, FlowName, AuthType, CredentialField } from "./core/plugin.ts";
