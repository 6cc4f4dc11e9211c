#!/usr/bin/env bash
# Compiles jkvm's modules in the working tree and runs the JMH microbenchmarks against them (args go to JMH, e.g.
#   bench/jmh/run.sh -f 1 -wi 2 -i 3 NetPathBench
# ), then prints each device path's rate as a share of its baseline (org.jkvm.bench.Ratios).
# Nothing is installed into the Maven repository: the benchmarks run on the modules' target/classes, so the
# repository's jkvm artifacts (other checkouts' builds) are neither used nor overwritten. JMH itself comes from the
# Maven repository (fetched once, online, if missing). NetPathBench needs root (network namespace, TAP devices).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
. "$root/scripts/jdk.sh"
cd "$root"
modules=(jkvm-sys jkvm-memory jkvm-virtio jkvm-block jkvm-net)
./mvnw -q -B -pl jkvm-block,jkvm-net -am test-compile
jmh="$(sed -n 's:.*<jmh.version>\(.*\)</jmh.version>.*:\1:p' pom.xml)"
repo="${MAVEN_REPO:-$HOME/.m2/repository}"
jar() { # group artifact version
  local path="$repo/${1//.//}/$2/$3/$2-$3.jar"
  if [ ! -f "$path" ]; then
    ./mvnw -q -B dependency:get -Dartifact="$1:$2:$3" >&2
  fi
  echo "$path"
}
lib="$(jar org.openjdk.jmh jmh-core "$jmh"):$(jar net.sf.jopt-simple jopt-simple 5.0.4)"
lib="$lib:$(jar org.apache.commons commons-math3 3.6.1)"
processor="$(jar org.openjdk.jmh jmh-generator-annprocess "$jmh")"
cp="jkvm-virtio/target/test-classes"
for m in "${modules[@]}"; do cp="$cp:$m/target/classes"; done
out=bench/jmh/target
rm -rf "$out/classes" "$out/generated-sources"
mkdir -p "$out/classes" "$out/generated-sources"
"$JAVA_HOME/bin/javac" --release 25 -proc:full -processorpath "$processor:$lib" -cp "$cp:$lib" \
  -Xlint:all,-serial,-processing,-options -d "$out/classes" -s "$out/generated-sources" \
  $(find bench/jmh/src/main/java -name '*.java')
exec "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -cp "$out/classes:$cp:$lib" org.jkvm.bench.Ratios "$@"
