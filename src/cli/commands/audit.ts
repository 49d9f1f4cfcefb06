import type { AuditVerification } from "../../core/audit.ts";
import { defineCommand } from "../command.ts";

/** `audit --verify` exit code for an edited or removed line (docs/cli.md, "Exit codes"). */
const AUDIT_TAMPERED_EXIT = 10;

function _verdict(result: AuditVerification): string {
  const notes = (result.crashes ?? []).map((crash) => `\n  note: ${crash.reason}`).join("");
  if (!result.ok) return `BROKEN at line ${result.problem?.line}: ${result.problem?.reason}${notes}`;
  return `ok: ${result.lines} entries, chain intact${notes}`;
}

export default defineCommand({
  name: "audit",
  summary: "Show the profile's audit log, or verify its hash chain with --verify.",
  options: {
    verify: { type: "boolean", description: "check that no line was edited or removed (exit 10 if one was; a crash is a note, exit 0)" },
    since: { type: "string", value: "TIME", description: "only entries since an ISO time or an age (30m, 2h, 7d)" },
  },
  async run({ options, api, out }) {
    if (options.verify) {
      const result = await api.call("verifyAudit", {});
      out.data(result, () => _verdict(result));
      return result.ok ? 0 : AUDIT_TAMPERED_EXIT;
    }
    const { entries } = await api.call("auditEntries", { since: options.since });
    out.data({ entries }, () =>
      entries.map((e) => [e.time, e.hostname, e.actor, e.run, e.action, [e.provider, e.connection].filter(Boolean).join("/"), e.host ?? "", e.outcome, e.error ?? ""].filter(Boolean).join("  ")).join("\n"),
    );
  },
});
