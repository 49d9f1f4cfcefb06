/**
 * How a login talks to the person at the terminal: messages, the browser, piped secrets and
 * prompts. The URL is always printed before a browser is tried, so a login never waits on a
 * browser that did not open (SSH, no display) without saying where to go.
 */
import { browserAtHand, openBrowser, readStdin, stdinIsTty } from "../runtime/index.ts";
import { writeStdio } from "../runtime/stdio.ts";
import type { LoginInteraction } from "../flows/types.ts";
import type { Output } from "./output.ts";

function _writeUrl(lead: string, url: string): void {
  writeStdio(2, `${lead}\n  ${url}\n`);
}

/** Builds the LoginInteraction the CLI hands to flows. */
export function createInteraction(out: Output, noBrowser: () => boolean, signal: AbortSignal): LoginInteraction {
  // stdinIsTty is asked only when a login needs it: most commands (`get`) never read stdin, and
  // asking costs node:tty (and net) when stdin is a character device such as /dev/null.
  const prompt: LoginInteraction["prompt"] = async (question, options) => {
    const { promptLine } = await import("../runtime/prompt.ts");
    return promptLine(question, { ...options, signal });
  };
  const interaction: LoginInteraction = {
    notify: (message) => out.info(message),
    // Codes and URLs are what the user needs to finish: shown even with --quiet.
    instruct: (message) => void writeStdio(2, message.endsWith("\n") ? message : `${message}\n`),
    browserAtHand: () => !noBrowser() && browserAtHand().ok,
    openUrl: async (url) => {
      if (noBrowser()) return _writeUrl("Not opening a browser (--no-browser); open this URL:", url);
      const check = browserAtHand();
      if (!check.ok) return _writeUrl(`A browser cannot be opened here: ${check.reason}. Open this URL in a browser:`, url);
      _writeUrl("Opening this URL in your browser:", url);
      if (!(await openBrowser(url))) writeStdio(2, "Could not start a browser; open the URL above yourself.\n");
    },
    readPipedSecret: async () => (stdinIsTty() ? undefined : readStdin()),
    signal,
    // A prompt is offered only at a terminal.
    get prompt() {
      return stdinIsTty() ? prompt : undefined;
    },
  };
  return interaction;
}
