import { defineCommand } from "../command.ts";

export default defineCommand({
  name: "doctor",
  summary: "Check permissions, storage, keys, plugins and the audit log; say how to fix what fails.",
  async run({ api, out }) {
    const { checks } = await api.call("doctor", {});
    const failed = checks.filter((c) => !c.ok);
    out.data({ ok: failed.length === 0, checks }, () =>
      checks.map((c) => `${c.ok ? out.paint("green", "ok  ") : out.paint("red", "FAIL")} ${c.name}: ${c.detail}${c.fix ? `\n       fix: ${c.fix}` : ""}`).join("\n"),
    );
    return failed.length === 0 ? 0 : 1;
  },
});
