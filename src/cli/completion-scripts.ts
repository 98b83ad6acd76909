/**
 * The shell side of completion: it hands the words typed so far to `kanka-infra __complete -- ...`
 * (the same program the user typed, so ./bin/kanka-infra works too) and offers what it prints, one
 * candidate a line; nothing printed means file names. All the knowledge stays in completion.ts.
 */
export const COMPLETION_SHELLS = ['bash', 'zsh'] as const;
export type CompletionShell = (typeof COMPLETION_SHELLS)[number];

const BASH = `# kanka-infra completion for bash. Load it with one of:
#   eval "$(kanka-infra completion bash)"                  (in ~/.bashrc)
#   kanka-infra completion bash > ~/.local/share/bash-completion/completions/kanka-infra
_kanka_infra() {
  # The words from the line itself: COMP_WORDS would split "web1:backend" at the colon.
  local line=\${COMP_LINE:0:COMP_POINT}
  local -a words
  read -ra words <<< "$line"
  [[ $line == *[[:space:]] ]] && words+=('')
  local cur=\${words[\${#words[@]}-1]}
  local program=\${words[0]/#\\~/$HOME}
  local IFS=$'\n'
  COMPREPLY=($("$program" __complete -- "\${words[@]:1}" 2>/dev/null))
  # bash replaces only what follows the last ":" of the word: offer that part.
  if [[ $cur == *:* && $COMP_WORDBREAKS == *:* ]]; then
    local colon=\${cur%"\${cur##*:}"}
    COMPREPLY=("\${COMPREPLY[@]#"$colon"}")
  fi
}
complete -o default -F _kanka_infra kanka-infra
`;

const ZSH = `#compdef kanka-infra
# kanka-infra completion for zsh. Load it with one of:
#   eval "$(kanka-infra completion zsh)"                   (in ~/.zshrc, after compinit)
#   kanka-infra completion zsh > "\${fpath[1]}/_kanka-infra"
_kanka_infra() {
  local -a candidates
  candidates=("\${(@f)$(\${~words[1]} __complete -- "\${(@)words[2,CURRENT]}" 2>/dev/null)}")
  candidates=(\${candidates:#})
  if (( \${#candidates} )); then
    compadd -- "\${candidates[@]}"
  else
    _files
  fi
}
if [[ "\${zsh_eval_context[-1]}" == loadautofunc ]]; then
  _kanka_infra "$@"
else
  compdef _kanka_infra kanka-infra
fi
`;

export function completionScript(shell: CompletionShell): string {
  return shell === 'bash' ? BASH : ZSH;
}
