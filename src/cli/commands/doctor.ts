import { defineCommand } from "../command.ts";
import type { Output } from "../output.ts";
import type { ApiClient } from "../client.ts";

/** `doctor --repair`: says which records it will move and where, then moves them (never deletes). */
async function repair(api: ApiClient, out: Output): Promise<number> {
  const plan = await api.call("repairStore", { dry_run: true });
  const movable = plan.damaged.filter((d) => d.movable);
  for (const d of plan.damaged.filter((r) => !r.movable)) out.warn(`will not move ${d.location}: ${d.problem} (restore it from a backup)`);
  if (movable.length === 0) {
    out.data({ moved: [], damaged: plan.damaged }, () => "no damaged records to move aside");
    return plan.damaged.length === 0 ? 0 : 1;
  }
  for (const d of movable) out.info(`will move aside ${d.location}: ${d.problem}`);
  const { moved } = await api.call("repairStore", {});
  out.data({ moved, damaged: plan.damaged.filter((d) => !d.movable) }, () =>
    moved.map((m) => `moved ${m.location} -> ${m.movedTo}`).join("\n") + "\nlog in again to replace what was moved (the old content is kept there)",
  );
  return plan.damaged.length > movable.length ? 1 : 0;
}

export default defineCommand({
  name: "doctor",
  summary: "Check permissions, storage, keys, records, plugins and the audit log; say how to fix what fails.",
  options: { repair: { type: "boolean", description: "move damaged records aside to <home>/damaged/<time>/ (never deletes), saying which first" } },
  examples: ["authsome doctor", "authsome doctor --repair"],
  async run({ api, out, options }) {
    if (options.repair) return repair(api, out);
    const { checks } = await api.call("doctor", {});
    const failed = checks.filter((c) => !c.ok);
    out.data({ ok: failed.length === 0, checks }, () =>
      checks.map((c) => `${c.ok ? out.paint("green", "ok  ") : out.paint("red", "FAIL")} ${c.name}: ${c.detail}${c.fix ? `\n       fix: ${c.fix}` : ""}`).join("\n"),
    );
    return failed.length === 0 ? 0 : 1;
  },
});
