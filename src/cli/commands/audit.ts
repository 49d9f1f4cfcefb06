import { defineCommand } from "../command.ts";

export default defineCommand({
  name: "audit",
  summary: "Show the profile's audit log, or verify its hash chain with --verify.",
  options: {
    verify: { type: "boolean", description: "check that no line was edited or removed (exit 1 if one was)" },
    since: { type: "string", value: "TIME", description: "only entries since an ISO time or an age (30m, 2h, 7d)" },
  },
  async run({ options, api, out }) {
    if (options.verify) {
      const result = await api.call("verifyAudit", {});
      out.data(result, () => (result.ok ? `ok: ${result.lines} entries, chain intact` : `BROKEN at line ${result.problem?.line}: ${result.problem?.reason}`));
      return result.ok ? 0 : 1;
    }
    const { entries } = await api.call("auditEntries", { since: options.since });
    out.data({ entries }, () =>
      entries.map((e) => [e.time, e.actor, e.action, [e.provider, e.connection].filter(Boolean).join("/"), e.host ?? "", e.outcome, e.error ?? ""].filter(Boolean).join("  ")).join("\n"),
    );
  },
});
