#!/bin/bash
# banned.sh SRCDIR - rejects functions that invite buffer overflows or
# silent number parsing errors: strcpy sprintf strcat strtok atoi gets.
# (snprintf, strtol, strtok_r and friends are fine.)
set -u
root=${1:-.}
hits=$(grep -rnE '(^|[^_a-zA-Z0-9])(strcpy|sprintf|strcat|strtok|atoi|gets)[[:space:]]*\(' \
    "$root/src" "$root/include" "$root/tests" "$root/examples" --include='*.c' --include='*.h' 2>/dev/null |
    grep -v 'tests/lint/')
if [ -n "$hits" ]; then
    echo "banned functions used:"
    echo "$hits"
    exit 1
fi
echo "no banned functions"
