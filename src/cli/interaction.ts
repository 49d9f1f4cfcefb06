/**
 * How a login talks to the person at the terminal: messages, the browser, piped secrets.
 * Kept out of main.ts so prompts and browser decisions have one home.
 */
import { openBrowser, readStdin, stdinIsTty } from "../runtime/index.ts";
import type { LoginInteraction } from "../flows/types.ts";
import type { Output } from "./output.ts";

/** Builds the LoginInteraction the CLI hands to flows. */
export function createInteraction(out: Output, noBrowser: () => boolean, signal: AbortSignal): LoginInteraction {
  return {
    notify: (message) => out.info(message),
    openUrl: async (url) => {
      if (noBrowser()) {
        process.stderr.write(`Open this URL in a browser:\n  ${url}\n`);
        return;
      }
      if (!(await openBrowser(url))) process.stderr.write(`Could not open a browser; open this URL:\n  ${url}\n`);
    },
    readPipedSecret: async () => (stdinIsTty() ? undefined : readStdin()),
    signal,
  };
}
