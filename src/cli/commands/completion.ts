import { writeStdio } from "../../runtime/stdio.ts";
import { defineCommand } from "../command.ts";

// Each script hands the words before the cursor to `authsome __complete`, which answers from
// the command definitions and the home (names only), so the scripts never go stale.
const SCRIPTS = {
  bash: `# bash completion for authsome: eval "$(authsome completion bash)" in ~/.bashrc
_authsome_complete() {
  local IFS=$'\\n'
  COMPREPLY=($(command authsome __complete -- "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null))
}
complete -o bashdefault -o default -F _authsome_complete authsome
`,
  zsh: `#compdef authsome
# zsh completion for authsome: authsome completion zsh > "\${fpath[1]}/_authsome"
_authsome() {
  local -a candidates
  candidates=("\${(@f)$(command authsome __complete -- "\${(@)words[2,CURRENT]}" 2>/dev/null)}")
  candidates=(\${candidates:#})
  (( \${#candidates} )) && compadd -- "\${candidates[@]}"
}
if [[ "\${funcstack[1]}" == "_authsome" ]]; then
  _authsome "$@"
else
  compdef _authsome authsome
fi
`,
  fish: `# fish completion for authsome: authsome completion fish > ~/.config/fish/completions/authsome.fish
function __authsome_complete
    set -l words (commandline -opc)
    set -e words[1]
    set -l current (commandline -ct)
    command authsome __complete -- $words "$current" 2>/dev/null
end
complete -c authsome -f -a '(__authsome_complete)'
`,
} as const;

export default defineCommand({
  name: "completion",
  summary: "Print a shell completion script: commands, sub-commands, flags, provider and connection names.",
  args: ["<bash|zsh|fish>"],
  examples: [
    "eval \"$(authsome completion bash)\"                          # in ~/.bashrc",
    "authsome completion zsh > \"${fpath[1]}/_authsome\"           # then restart zsh",
    "authsome completion fish > ~/.config/fish/completions/authsome.fish",
  ],
  async run({ args }) {
    writeStdio(1, SCRIPTS[args[0]]);
  },
});
