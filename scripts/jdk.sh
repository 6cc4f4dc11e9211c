# Sourced by jkvm's scripts: sets JAVA_HOME to a JDK >= 25 found in $JAVA_HOME or /usr/lib/jvm/*, or explains
# what to install and exits 2.
jkvm_java_major() {
  "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -n1
}
jkvm_find_jdk() {
  local c v candidates=()
  [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
  for c in /usr/lib/jvm/*; do [ -d "$c" ] && candidates+=("$c"); done
  for c in "${candidates[@]}"; do
    if [ -x "$c/bin/java" ] && [ -x "$c/bin/javac" ]; then
      v="$(jkvm_java_major "$c/bin/java")"
      if [ -n "$v" ] && [ "$v" -ge 25 ]; then echo "$c"; return 0; fi
    fi
  done
  return 1
}
if ! JAVA_HOME="$(jkvm_find_jdk)"; then
  cat >&2 <<'MSG'
jkvm: no JDK 25 or newer found (looked at $JAVA_HOME and /usr/lib/jvm/*).
jkvm needs JDK 25 (java.lang.foreign). Install one, for example:
  Debian/Ubuntu: apt-get install openjdk-25-jdk    (or Temurin 25 from adoptium.net)
then set JAVA_HOME to it, or install it under /usr/lib/jvm.
MSG
  exit 2
fi
export JAVA_HOME
