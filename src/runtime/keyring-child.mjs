// The one process that touches the OS keyring (src/runtime/keyring.ts starts it per call). The
// native binding's calls block their thread (a hung D-Bus blocks even the constructor, measured),
// so they run here, where the parent can kill -9 this process at its deadline. The request
// (and, for "set", the secret) arrives on stdin; the answer is one JSON line on stdout. Nothing
// is ever passed in argv or the environment.
let input = "";
for await (const chunk of process.stdin) input += chunk;
const request = JSON.parse(input);
const answer = (value) => process.stdout.write(`${JSON.stringify(value)}\n`);
let binding;
try {
  binding = await import("@napi-rs/keyring");
} catch (error) {
  answer({ ok: false, kind: "missing", message: String(error?.message ?? error).split("\n")[0] });
  process.exit(0);
}
try {
  // Linux: Secret Service only. The binding's default falls back to the kernel keyring, which
  // forgets everything at reboot: a master key kept there would be lost with the vault.
  const entry = new binding.Entry(request.service, request.account, { linux: { store: "secret-service" } });
  let value = null;
  if (request.op === "get") value = entry.getPassword() ?? null;
  else if (request.op === "set") entry.setPassword(request.secret);
  else if (request.op === "delete") value = entry.deletePassword();
  // Accounts only: the passwords findCredentials also returns never leave this process.
  else if (request.op === "list") value = binding.findCredentials(request.service).map((c) => c.account);
  else throw new Error(`unknown operation ${request.op}`);
  answer({ ok: true, value });
} catch (error) {
  answer({ ok: false, kind: "failed", message: String(error?.message ?? error).split("\n")[0] });
}
