#!/usr/bin/env bash
# The Confab links extension's content script in headless Chromium: the time to
# linkify a page of MESSAGES chat messages (1 in 10 with a sip:/conf:/tel: URI),
# then its work for each of NEW messages added one at a time (median/p99/max), and
# from each append to its link in the DOM (median/p99). Needs the npm tooling of
# the browser tests (CONFAB_BROWSER_TESTS=1 scripts/setup).
#
#   bench/linkify.sh [MESSAGES [NEW]]     (default 10000 300)
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d tests/browser/node_modules/playwright-core ] || CONFAB_BROWSER_TESTS=1 scripts/setup
exec node tests/browser/extension.mjs bench "${1:-10000}" "${2:-300}"
