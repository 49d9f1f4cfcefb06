/**
 * How a login talks to the person at the terminal: messages, the browser, piped secrets and
 * prompts. The URL is always printed before a browser is tried, so a login never waits on a
 * browser that did not open (SSH, no display) without saying where to go.
 */
import { browserAtHand, openBrowser, readStdin, stdinIsTty } from "../runtime/index.ts";
import type { LoginInteraction } from "../flows/types.ts";
import type { Output } from "./output.ts";

function _writeUrl(lead: string, url: string): void {
  process.stderr.write(`${lead}\n  ${url}\n`);
}

/** Builds the LoginInteraction the CLI hands to flows. */
export function createInteraction(out: Output, noBrowser: () => boolean, signal: AbortSignal): LoginInteraction {
  const terminal = stdinIsTty();
  const interaction: LoginInteraction = {
    notify: (message) => out.info(message),
    // Codes and URLs are what the user needs to finish: shown even with --quiet.
    instruct: (message) => void process.stderr.write(message.endsWith("\n") ? message : `${message}\n`),
    browserAtHand: () => !noBrowser() && browserAtHand().ok,
    openUrl: async (url) => {
      if (noBrowser()) return _writeUrl("Not opening a browser (--no-browser); open this URL:", url);
      const check = browserAtHand();
      if (!check.ok) return _writeUrl(`A browser cannot be opened here: ${check.reason}. Open this URL in a browser:`, url);
      _writeUrl("Opening this URL in your browser:", url);
      if (!(await openBrowser(url))) process.stderr.write("Could not start a browser; open the URL above yourself.\n");
    },
    readPipedSecret: async () => (terminal ? undefined : readStdin()),
    signal,
  };
  if (terminal) {
    interaction.prompt = async (question, options) => {
      const { promptLine } = await import("../runtime/prompt.ts");
      return promptLine(question, { ...options, signal });
    };
  }
  return interaction;
}
