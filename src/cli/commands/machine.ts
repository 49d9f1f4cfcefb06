import { defineCommand } from "../command.ts";

/** A service core for the machine commands (not /v1 operations: the daemon's token must not approve machines). */
async function _core(profile: string | undefined, verb: string) {
  const { createServiceCore } = await import("../../core/service.ts");
  return createServiceCore({ actor: `cli:machine-${verb}:${process.pid}`, askPassphrase: true, ...(profile === undefined ? {} : { profile }) });
}

const join = defineCommand({
  name: "machine join",
  summary: "Ask for access to the shared store's profiles: prints this machine's id and key fingerprint (no secret) and the command to run on a machine with access. Run it again to see whether it was approved.",
  options: { wait: { type: "string", value: "SECONDS", description: "wait up to SECONDS (1-3600) for the approval, with a line every 10 s; exit 1 (machine_no_access) if none came" } },
  examples: ["authsome machine join", "authsome machine join --wait 300"],
  async run({ options, out, profile }) {
    const wait = options.wait === undefined ? undefined : Number(options.wait);
    if (wait !== undefined && !(Number.isInteger(wait) && wait >= 1 && wait <= 3600)) {
      const { AuthsomeError } = await import("../../core/errors.ts");
      throw new AuthsomeError("usage", "--wait takes a whole number of seconds from 1 to 3600");
    }
    const core = await _core(profile, "join");
    const { describeCustody } = await import("../../core/key-custody.ts");
    const mode = describeCustody(core.context.home, core.context.masterKey).key_mode;
    const hasMasterKey = mode !== "not created yet" && mode !== "machine";
    const { joinMachine } = await import("../../core/machines.ts");
    const result = await joinMachine(core, hasMasterKey);
    out.data(result, () => `${result.id}.${result.fingerprint}`);
    if (result.status === "approved") out.info(`This machine (${result.id}, ${result.hostname}) is approved: it reads the store's profiles with its own key.`);
    else if (result.status === "not_needed") out.info(hasMasterKey ? "This home has a master key: it needs no approval." : "The store holds no profiles yet: this machine makes the fleet's first key on first use; there is nothing to join.");
    else out.info(`Join request stored for machine ${result.id} (${result.hostname}), key fingerprint ${result.fingerprint}.\nOn a machine with access, run:\n  ${result.approve}\n${wait === undefined ? "then run `authsome machine join` here again to check." : `Waiting up to ${wait} s for the approval...`}`);
    if (result.status !== "requested" || wait === undefined) return;
    const { noAccessError, waitForApproval } = await import("../../core/machines.ts");
    if (!(await waitForApproval(core, result.id, wait, (left) => out.info(`still waiting for the approval (${left} s left)`)))) {
      throw noAccessError(await core.store(), `no approval within ${wait} s (the request stays in the store)`, { id: result.id, host: result.hostname });
    }
    out.info(`Approved: this machine (${result.id}) reads the store's profiles with its own key.`);
  },
});

const approve = defineCommand({
  name: "machine approve",
  summary: "Give a machine that asked to join every profile's data key, wrapped for its own key (pass the <id>.<fingerprint> its join printed, so a changed request is refused).",
  args: ["<request>"],
  examples: ["authsome machine approve 3f2a...c9.8d1e5b0a7f3c2e41"],
  async run({ args, out, profile }) {
    const { approveMachine } = await import("../../core/machines.ts");
    const result = await approveMachine(await _core(profile, "approve"), args[0] ?? "");
    out.data(result, () => "");
    out.info(`Approved machine ${result.id} (${result.hostname}, key ${result.fingerprint}): ${result.profiles.length} profile key(s) wrapped for it${result.profiles.length === 0 ? "" : ` (${result.profiles.join(", ")})`}.`);
  },
});

const list = defineCommand({
  name: "machine list",
  summary: "The machines of the shared store: id, hostname, status (pending, approved, or master key: a holder of the fleet's master key, such as the first machine), joined at, approved by, last seen. * marks this machine.",
  async run({ out, profile }) {
    const { listMachines } = await import("../../core/machines.ts");
    const machines = await listMachines(await _core(profile, "list"));
    out.data({ machines }, () => machines.map((m) => [
      `${m.current ? "*" : " "} ${m.id} ${m.hostname}`, m.status === "master_key" ? "master key" : m.status, `joined ${m.joined_at ?? "-"}`, `by ${m.approved_by ?? "-"}`, `last seen ${m.last_seen ?? "-"}`,
    ].join("  ")).join("\n"));
  },
});

const remove = defineCommand({
  name: "machine remove",
  summary: "Delete a machine's wrapped keys and its record. It keeps what it already read: --rotate also gives every profile a new data key (re-encrypting every record) and re-wraps it for the other machines.",
  args: ["<id>"],
  options: { rotate: { type: "boolean", description: "then re-encrypt every record under new data keys (needs the fleet's master key here) and approve the remaining machines again" } },
  examples: ["authsome machine remove 3f2a...c9", "authsome machine remove 3f2a...c9 --rotate"],
  async run({ args, options, out, profile }) {
    const core = await _core(profile, "remove");
    const { removeMachine, rewrapApproved } = await import("../../core/machines.ts");
    const result = await removeMachine(core, args[0] ?? "");
    let rewrapped: string[] = [];
    if (options.rotate) {
      const { rotateMasterKey } = await import("../../core/rotate.ts");
      await rotateMasterKey(core, { reencrypt: true });
      rewrapped = await rewrapApproved(core, result.id);
    }
    out.data({ ...result, rotated: options.rotate, rewrapped }, () => "");
    out.info(`Removed machine ${result.id} (${result.removed} wrapped key(s) deleted).${options.rotate ? ` Every record is sealed under new data keys; ${rewrapped.length} other machine(s) approved again.` : " It keeps what it already read: `authsome machine remove --rotate` (or `authsome key rotate --reencrypt`, then approving the others again) cuts it off from future writes."}`);
  },
});

export default defineCommand({
  name: "machine",
  summary: "Machines of a shared store: join with a key of their own instead of a copied master key; approve, list, remove.",
  subcommands: { join, approve, list, remove },
});
