# promise keygen: a new key, mode 0600, never overwritten.
# The key is random, so its fingerprint and tag are masked in the
# transcript and checked as properties instead.
mask() {
    "$@" | sed -E -e 's/^fingerprint [0-9a-f]{64}$/fingerprint <64 hex>/' \
        -e 's/^tag [a-z2-7]{6}$/tag <6 base32>/'
    return "${PIPESTATUS[0]}"
}

# usage errors: exit 1
run promise keygen
run promise keygen a.key b.key
run promise keygen --force a.key

# a new key
run mask promise keygen k.key
check "key file has mode 0600" test "$(stat -c %a k.key)" = 600
check "key file is one 'promise-key v1 <64 hex>' line" \
    grep -qxE 'promise-key v1 [0-9a-f]{64}' k.key
check "key file is exactly 80 bytes" test "$(wc -c <k.key)" -eq 80
check "no temporary file left beside it" test "$(ls -A | grep -c 'k.key.tmp')" -eq 0

# refuses to overwrite: exit 2, key unchanged
cp k.key k.key.orig
run promise keygen k.key
check "existing key unchanged" cmp -s k.key k.key.orig
ln -s k.key link.key
run promise keygen link.key
check "a symlink is not followed to overwrite" cmp -s k.key k.key.orig

# mode 0600 whatever the umask
(umask 000 && promise keygen open-umask.key >/dev/null)
check "mode 0600 under umask 000" test "$(stat -c %a open-umask.key)" = 600

# two keys differ; the printed fingerprint and tag are stable for one key
promise keygen k2.key >k2.out
check "two keys differ" test "$(cut -d' ' -f3 k.key)" != "$(cut -d' ' -f3 k2.key)"
check "keygen prints a 64-hex fingerprint" grep -qxE 'fingerprint [0-9a-f]{64}' k2.out
check "keygen prints a 6-char tag" grep -qxE 'tag [a-z2-7]{6}' k2.out

# a directory that does not exist: exit 2
run promise keygen no/such/dir/k.key
check "nothing created" test ! -e no

# help
run promise keygen --help
