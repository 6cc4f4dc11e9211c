#!/usr/bin/env bash
# Builds jkvm's block and virtio modules and runs the JMH microbenchmarks (args go to JMH, e.g. -f 1 -wi 2 -i 3).
# Needs a JDK 25 and the Maven repository (online once for JMH).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
. "$root/scripts/jdk.sh"
cd "$root"
./mvnw -q -B -pl jkvm-sys,jkvm-memory,jkvm-virtio,jkvm-block install -DskipTests
./mvnw -q -B -f bench/jmh/pom.xml package dependency:build-classpath -Dmdep.outputFile=target/classpath.txt
cp="bench/jmh/target/classes:$(cat bench/jmh/target/classpath.txt)"
exec "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -cp "$cp" org.openjdk.jmh.Main "$@"
