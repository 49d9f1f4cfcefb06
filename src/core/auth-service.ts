/**
 * `AuthService`: the library's public face (`createAuthService()`), and what the `/v1` API
 * calls. Each method delegates to a feature module and records the outcome in the audit log.
 */
import type { AuditEvent, AuditEntry, AuditVerification } from "./audit.ts";
import * as connections from "./connections.ts";
import type { ServiceContext, ServiceOptions } from "./context.ts";
// doctor, damage and profiles are imported where used: a `get` (the CLI's hot path) runs none
// of them, and each module a start-up loads is compiled again by every process (Node 20 keeps no
// code cache of ES modules).
import type { DamageReport, RepairedRecord } from "./damage.ts";
import type { DoctorCheck, WhoAmI } from "./doctor.ts";
import { AuthsomeError, toAuthsomeError } from "./errors.ts";
import type { ProviderPlugin } from "./plugin.ts";
import type { ProfileView } from "./profiles.ts";
import { isProviderUrl, providerForUrl } from "./url-provider.ts";
import { createServiceCore, type ConnectionOptions, type LoginOptions, type ServiceCore } from "./service.ts";
import type { ConnectionView, ProviderView } from "./views.ts";

/** Actions that hand out a credential: without their audit entry they fail. */
const _READS = new Set(["get", "get_secret", "get_token", "export"]);

/** One stderr line: the change was made, its audit entry could not be written. */
function _warnUnaudited(action: string, error: AuthsomeError): void {
  process.stderr.write(`authsome: warning: ${action} was done, but its audit entry could not be written (${error.code}: ${error.message})\n`);
}

/** The credential broker for one home and profile. */
export class AuthService {
  /** Internals shared with the server, proxy and interceptor (not a stable API). @internal */
  readonly core: ServiceCore;

  /** @internal */
  constructor(core: ServiceCore) {
    this.core = core;
  }

  /** Home, profile and storage this service uses. */
  get context(): ServiceContext {
    return this.core.context;
  }

  async #audited<T>(event: Omit<AuditEvent, "outcome">, fn: () => Promise<T>): Promise<T> {
    try {
      const result = await fn();
      await this.core.record({ ...event, outcome: "ok" }).catch((error: unknown) => {
        // A change is stored by now: failing would report it as not done (issue 14: a stale
        // audit lock made `login` fail with the key stored). A read is refused unaudited.
        if (_READS.has(event.action)) throw error;
        _warnUnaudited(event.action, toAuthsomeError(error));
      });
      return result;
    } catch (error) {
      const failure = toAuthsomeError(error);
      // A missing profile or a broken store cannot take an audit entry either.
      if (!["profile_not_found", "storage_failed", "master_key_invalid"].includes(failure.code)) {
        await this.core.record({ ...event, outcome: "error", error: failure.code }).catch(() => {});
      }
      throw error;
    }
  }

  /** Runs a login flow and stores the connection. */
  login(provider: string, options: LoginOptions = {}): Promise<ConnectionView> {
    return this.#audited({ action: "login", provider, connection: options.connection ?? "default" }, () => connections.login(this.core, provider, options));
  }

  /** A connection's record; secrets redacted unless `showSecret`. Refreshes first when needed. */
  getConnection(provider: string, options: ConnectionOptions & { showSecret?: boolean } = {}): Promise<ConnectionView> {
    const action = options.showSecret ? "get_secret" : "get";
    return this.#audited({ action, provider, ...(options.connection ? { connection: options.connection } : {}) }, () => connections.getConnection(this.core, provider, options));
  }

  /** The credential to send: an API key or a fresh access token; `provider` may be a URL (an MCP server's endpoint). */
  async getAccessToken(provider: string, options: ConnectionOptions = {}): Promise<string> {
    // A URL (an MCP server's endpoint) names the provider whose resource or rules cover it.
    const name = isProviderUrl(provider) ? await providerForUrl(this.core.registry, provider) : provider;
    return this.#audited({ action: "get_token", provider: name, ...(options.connection ? { connection: options.connection } : {}) }, () => connections.getAccessToken(this.core, name, options));
  }

  /** The env variables `export` prints. */
  exportEnv(provider: string, options: ConnectionOptions = {}): Promise<Record<string, string>> {
    return this.#audited({ action: "export", provider, ...(options.connection ? { connection: options.connection } : {}) }, () => connections.exportEnv(this.core, provider, options));
  }

  /** Makes a connection the provider's default. */
  setDefault(provider: string, connection: string): Promise<ConnectionView> {
    return this.#audited({ action: "default", provider, connection }, () => connections.setDefaultConnection(this.core, provider, connection));
  }

  /** Removes local records only (the provider is not contacted). Returns the removed names. */
  logout(provider: string, options: ConnectionOptions & { all?: boolean } = {}): Promise<string[]> {
    return this.#audited({ action: "logout", provider, ...(options.connection ? { connection: options.connection } : {}) }, () => connections.logout(this.core, provider, options));
  }

  /**
   * Revokes tokens at the provider (RFC 7009) where it has an endpoint, then removes local
   * state: all connections and the saved client, or only the named connection.
   */
  revoke(provider: string, options: ConnectionOptions = {}): Promise<connections.RevokeReport> {
    return this.#audited({ action: "revoke", provider, ...(options.connection ? { connection: options.connection } : {}) }, () => connections.revoke(this.core, provider, options));
  }

  /** Every provider with its connections. */
  listProviders(): Promise<{ providers: ProviderView[]; errors: { source: string; message: string }[]; damaged: connections.DamagedRecord[] }> {
    return connections.listProviders(this.core);
  }

  /** One provider's definition and connections. */
  inspect(provider: string): Promise<ProviderView & { definition: ProviderPlugin; damaged?: connections.DamagedRecord[] }> {
    return connections.inspectProvider(this.core, provider);
  }

  /** Creates a named profile in this home. */
  createProfile(name: string, options: { description?: string } = {}): Promise<ProfileView> {
    return this.#audited({ action: "profile_create" }, async () => (await import("./profiles.ts")).createProfile(this.core, name, options));
  }

  /** Lists the home's profiles. */
  async listProfiles(): Promise<ProfileView[]> {
    return (await import("./profiles.ts")).listProfiles(this.core);
  }

  /** Removes a profile and its vault. */
  removeProfile(name: string, options: { force?: boolean } = {}): Promise<void> {
    return this.#audited({ action: "profile_remove" }, async () => (await import("./profiles.ts")).removeProfile(this.core, name, options));
  }

  /** Installs a provider plugin from a file or npm package. */
  installProvider(source: string, options: { force?: boolean } = {}): Promise<ProviderPlugin> {
    return this.#audited({ action: "provider_add" }, () => this.core.registry.install(source, options));
  }

  /** Removes an installed provider plugin. */
  async removeProvider(name: string): Promise<void> {
    await this.#audited({ action: "provider_remove", provider: name }, () => this.core.registry.remove(name));
  }

  /** Audit entries of this profile. */
  async auditEntries(options: { since?: Date } = {}): Promise<AuditEntry[]> {
    return (await this.core.auditLog()).read(options);
  }

  /** Verifies the audit log's hash chain. */
  async verifyAudit(): Promise<AuditVerification> {
    return (await this.core.auditLog()).verify();
  }

  /** Home, profile, storage and key source. */
  async whoami(): Promise<WhoAmI> {
    return (await import("./doctor.ts")).whoami(this.core);
  }

  /** Health checks with fixes. */
  async doctor(): Promise<DoctorCheck[]> {
    return (await import("./doctor.ts")).doctor(this.core);
  }

  /** The profile's damaged records (failing their schema or integrity check). */
  async findDamaged(): Promise<DamageReport[]> {
    return (await import("./damage.ts")).findDamaged(this.core);
  }

  /** Moves the profile's damaged records aside to `<home>/damaged/<time>/` (never deletes); what was moved. */
  repair(): Promise<RepairedRecord[]> {
    return this.#audited({ action: "repair" }, async () => (await import("./damage.ts")).repairDamaged(this.core));
  }

  /** Releases the store (Redis connections); the service is unusable afterwards. */
  async close(): Promise<void> {
    await (await this.core.store()).dispose();
  }
}

/** Creates the service for a home and profile (options first, then the environment). */
export async function createAuthService(options: ServiceOptions = {}): Promise<AuthService> {
  const service = new AuthService(createServiceCore(options));
  if (service.context.profile !== "default") await (await import("./profiles.ts")).assertProfileExists(service.core, service.context.profile);
  return service;
}

export { AuthsomeError };
