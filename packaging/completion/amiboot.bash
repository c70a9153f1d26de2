# SPDX-License-Identifier: Apache-2.0
# bash completion for amiboot(8): commands, their options, stages, analyze's
# views, and module names (from `amiboot modules`).

_amiboot() {
  local cur prev words cword
  if declare -F _init_completion >/dev/null; then
    _init_completion || return
  else
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD - 1]}
    words=("${COMP_WORDS[@]}")
    cword=$COMP_CWORD
  fi

  local commands="run status query validate analyze clean modules firewall-early version"
  local command="" i
  for ((i = 1; i < cword; i++)); do
    case "${words[i]}" in
      -*) ;;
      *)
        command=${words[i]}
        break
        ;;
    esac
  done

  if [ -z "$command" ]; then
    COMPREPLY=($(compgen -W "$commands --help --version" -- "$cur"))
    return
  fi

  case "$prev" in
    --root | --seed)
      COMPREPLY=($(compgen -d -- "$cur"))
      return
      ;;
    --stage)
      COMPREPLY=($(compgen -W "init final all" -- "$cur"))
      return
      ;;
    --imds | --format | --lock-wait)
      return
      ;;
  esac

  local options="--help"
  case "$command" in
    run) options+=" --stage --dry-run --json --root --seed --imds --lock-wait" ;;
    status) options+=" --wait --long --json --root" ;;
    query) options+=" --format --root" ;;
    validate) options+=" --json --root" ;;
    analyze) options+=" --json --root" ;;
    clean) options+=" --logs --root" ;;
    firewall-early) options+=" --root" ;;
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$options" -- "$cur"))
    return
  fi
  case "$command" in
    analyze)
      COMPREPLY=($(compgen -W "show blame plot" -- "$cur"))
      ;;
    modules)
      local names
      names=$("${words[0]}" modules 2>/dev/null | cut -d' ' -f1)
      COMPREPLY=($(compgen -W "$names" -- "$cur"))
      ;;
    validate)
      COMPREPLY=($(compgen -f -- "$cur"))
      ;;
    query)
      COMPREPLY=($(compgen -W "instance_id region availability_zone instance_type image_id
        private_ip local_hostname public_keys block_device_mapping user_data merged_cfg
        v1 ds" -- "$cur"))
      ;;
  esac
}
complete -F _amiboot amiboot
