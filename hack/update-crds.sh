#!/usr/bin/env bash
# Regenerates k8s/crds from the Java API types (src/main/java/io/marketintel/safety/api).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
./mvnw -q -DskipTests package test-compile
./mvnw -q exec:java@update-crds
