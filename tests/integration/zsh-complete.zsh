# zsh -f zsh-complete.zsh FPATH_DIR LINE OUT: the candidates zsh's
# completion offers for LINE (typed, then TAB, in an interactive zsh on a
# pseudo-terminal), one per line; a compadd wrapper also writes them to OUT.
zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z "PROMPT=''; fpath=($1 \$fpath); autoload -Uz compinit; compinit -u -D"
zpty -w z 'compadd() { local -a _m; builtin compadd -O _m "$@"; print -rl -- ${_m/#/CAND:} >> '$3'; builtin compadd "$@"; }'
zpty -w z "bindkey '^I' complete-word; print -r -- READ''Y"
local line i=0
while (( i++ < 400 )); do zpty -r -t z line && [[ $line == *READY* ]] && break; sleep 0.05; done
zpty -w -n z "$2"$'\t'
i=0
while (( i++ < 200 )) && [[ ! -s $3 ]]; do zpty -r -t z line; sleep 0.05; done
sleep 0.3
zpty -d z
[[ -f $3 ]] && sort -u $3 | sed -n 's/^CAND://p'
