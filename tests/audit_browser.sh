#!/usr/bin/env bash
# The audit report in a real browser (headless Chromium from Debian's chromium package, which
# scripts/test.sh installs): audit.html loads from disk with no console messages, shows the
# verdict, and every embedded figure decodes. The screenshot stays in WORK as the test artefact.
# Usage: audit_browser.sh LINSIM WORK. Exit 77 (skipped, with a message) without Chromium.
set -euo pipefail
linsim=$1
work=$2
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
  echo "SKIP: Chromium is not installed (scripts/install-deps.sh --test installs Debian's chromium package)"
  exit 77
fi
rm -rf "$work"
mkdir -p "$work"
"$linsim" simulate --users 2000 --items 150 --seed 3 --out "$work/sim.tsv" --truth "$work/truth.tsv"
"$linsim" fit --input "$work/sim.tsv" --model eq1 --gauge symmetric --rank 10 --lambda 2000 --out "$work/model"
"$linsim" audit --items "$work/model" --truth "$work/truth.tsv" --out "$work/audit" >"$work/stdout.txt"
page="file://$work/audit/audit.html"
flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking
  --disable-component-update --disable-sync --enable-logging=stderr --v=0)
timeout 120 "$browser" "${flags[@]}" --user-data-dir="$work/profile1" --dump-dom "$page" >"$work/dom.html" \
  2>"$work/browser-dom.log"
timeout 120 "$browser" "${flags[@]}" --user-data-dir="$work/profile2" --window-size=1100,3200 \
  --screenshot="$work/audit-screenshot.png" "$page" >/dev/null 2>"$work/browser-screenshot.log"
status=0
if grep -h "CONSOLE" "$work/browser-dom.log" "$work/browser-screenshot.log"; then
  echo "FAIL: the page logged to the console (above)"
  status=1
fi
if ! grep -q 'data-figures-loaded="3/3"' "$work/dom.html"; then
  echo "FAIL: not every figure decoded: $(grep -o 'data-figures-loaded="[^"]*"' "$work/dom.html" || echo 'no self-check ran')"
  status=1
fi
# The whole verdict (not a prefix), as the DOM serialises text, inside the verdict card.
if ! /usr/bin/python3 - "$work/audit/audit.json" "$work/dom.html" <<'PY'
import html, json, sys
verdict = json.load(open(sys.argv[1]))["verdict"]
dom = open(sys.argv[2], encoding="utf-8").read()
start = dom.find('id="verdict"')
card = dom[start:dom.find("</div>", start)] if start >= 0 else ""
sys.exit(0 if verdict and html.escape(verdict, quote=False) in card else 1)
PY
then
  echo "FAIL: the verdict is not on the page"
  status=1
fi
# A PNG of the requested window size (IHDR width and height at bytes 16-23).
size=$(/usr/bin/python3 -c 'import struct,sys; d=open(sys.argv[1],"rb").read(24)
print("%dx%d" % struct.unpack(">II", d[16:24]) if d[:8] == b"\x89PNG\r\n\x1a\n" else "not a PNG")' \
  "$work/audit-screenshot.png" 2>/dev/null || echo "missing")
if [ "$size" != "1100x3200" ]; then
  echo "FAIL: screenshot: $size, expected a 1100x3200 PNG"
  status=1
fi
echo "screenshot: $work/audit-screenshot.png"
exit $status
