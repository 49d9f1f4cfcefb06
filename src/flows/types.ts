/**
 * The contract between the service and a login flow, defined in core
 * (src/core/flow-registry.ts) and re-exported here for the flows. A flow talks to the user only
 * through `LoginInteraction` (so the CLI, the daemon and tests can each supply their own) and
 * returns what to store; the service does the storing.
 */
export type { FlowContext, FlowResult, LoginFlow, LoginInteraction } from "../core/flow-registry.ts";
