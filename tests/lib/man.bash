# tests/lib/man.bash: the shell commands of a man page's EXAMPLES section.
# man_examples PAGE prints them (.Dl lines and .Bd -literal blocks, with
# mdoc escapes undone) so a suite can run them in a prepared directory.
man_examples() {
  awk '
    /^\.Sh / { inex = ($2 == "EXAMPLES"); next }
    !inex { next }
    /^\.Bd -literal/ { lit = 1; next }
    /^\.Ed/ { lit = 0; next }
    /^\.Dl / { sub(/^\.Dl /, ""); print; next }
    lit { print }
  ' "$1" | sed -e 's/\\e/\\/g' -e 's/\\-/-/g' -e 's/\\&//g'
}
