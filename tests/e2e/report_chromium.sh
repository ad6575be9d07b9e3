#!/usr/bin/env bash
# The HTML report of the fixed run (tests/workloads/report_run) rendered by
# headless Chromium with the network disabled (`unshare -n` as root, else a
# dead proxy and every host name unresolvable): the screenshot is not blank
# (non-white pixels and distinct colours, decoded with python3's zlib), the
# DOM holds every chart the run has (data-chart ids), and the net log holds
# no request made by the page. Chromium's own background requests (its
# component updater: initiator "not an origin") are not the page's and are
# only counted. A control page with an <img> on 127.0.0.1:9 proves the net
# log check sees a page's request. Skips (77) without chromium or python3.
# Usage: report_chromium.sh TIERSCOPE_BINARY   (TIERSCOPE_SOURCE_DIR set;
# TIERSCOPE_REPORT_SCREENSHOT=PATH keeps a copy of the screenshot)
source "$(dirname "$0")/lib.sh"
bin=$1
run=$TIERSCOPE_SOURCE_DIR/tests/workloads/report_run

chromium=$(command -v chromium || command -v chromium-browser || true)
[[ -n $chromium ]] || { echo "SKIP: chromium not installed (bootstrap.sh installs it with the test packages)"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: python3 not installed"; exit 77; }

cp -r "$run" "$TMP/run"
"$bin" report "$TMP/run" --format html >"$TMP/out" 2>"$TMP/err" || { cat "$TMP/err" >&2; fail "tierscope report failed"; }
html=$TMP/run/report.html
url="file://$html"

flags=(--headless=new --no-sandbox --disable-gpu --user-data-dir="$TMP/profile" --no-first-run --no-default-browser-check
       --disable-background-networking --disable-component-update --disable-extensions --disable-sync --disable-default-apps
       --disable-domain-reliability --no-pings --disable-features=NetworkTimeServiceQuerying,SpellcheckService,Translate,OptimizationHints,MediaRouter)
offline=()
if [[ $(id -u) -eq 0 ]] && unshare -n true 2>/dev/null; then
  offline=(unshare -n)
  how="unshare -n (no network interface but lo, down)"
else
  flags+=(--proxy-server=127.0.0.1:9 "--host-resolver-rules=MAP * ~NOTFOUND")
  how="a dead proxy (127.0.0.1:9) and every host name NOTFOUND"
fi
browse() { timeout 30 "${offline[@]}" "$chromium" "${flags[@]}" "$@" 2>>"$TMP/chromium.log"; }

browse --screenshot="$TMP/shot.png" --window-size=1280,4000 --log-net-log="$TMP/netlog.json" "$url" >/dev/null \
  || { tail -20 "$TMP/chromium.log" >&2; fail "chromium --screenshot failed"; }
browse --dump-dom "$url" >"$TMP/dom.html" || { tail -20 "$TMP/chromium.log" >&2; fail "chromium --dump-dom failed"; }
cat >"$TMP/control.html" <<'HTML'
<!DOCTYPE html><html><body><img src="http://127.0.0.1:9/control.png" alt=""><p>control</p></body></html>
HTML
browse --dump-dom --log-net-log="$TMP/control-netlog.json" "file://$TMP/control.html" >/dev/null \
  || fail "chromium on the control page failed"
[[ -n ${TIERSCOPE_REPORT_SCREENSHOT:-} ]] && cp "$TMP/shot.png" "$TIERSCOPE_REPORT_SCREENSHOT"

# The chart ids the report of this run must have (its Markdown twin names them).
"$bin" report "$TMP/run" --format md --out "$TMP/md" >/dev/null 2>&1 || fail "tierscope report --format md failed"
mapfile -t charts < <(ls "$TMP/md/charts" | sed 's/\.svg$//')
[[ ${#charts[@]} -ge 6 ]] || fail "expected at least 6 charts, got ${#charts[@]}"

python3 - "$TMP/shot.png" "$TMP/dom.html" "$TMP/netlog.json" "$TMP/control-netlog.json" "$url" "${charts[@]}" <<'PY'
import json, struct, sys, zlib

shot, dom_path, netlog, control, url, charts = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6:]

def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)

# --- the PNG: chunks, IDAT inflated, scanlines unfiltered (RFC 2083 filters 0-4)
data = open(shot, "rb").read()
if data[:8] != b"\x89PNG\r\n\x1a\n":
    fail("the screenshot is not a PNG")
pos, idat, width = 8, b"", 0
while pos < len(data):
    length, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + length]
    if kind == b"IHDR":
        width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
        if depth != 8 or colour not in (2, 6) or interlace:
            fail("unexpected PNG format: depth %d colour type %d interlace %d" % (depth, colour, interlace))
        bpp = 3 if colour == 2 else 4
    elif kind == b"IDAT":
        idat += body
    pos += 12 + length
raw = zlib.decompress(idat)
stride = width * bpp
prev = bytearray(stride)
nonwhite, colours, i = 0, set(), 0
for y in range(height):
    f, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
    i += 1 + stride
    for x in range(stride):
        a = line[x - bpp] if x >= bpp else 0
        b = prev[x]
        c = prev[x - bpp] if x >= bpp else 0
        if f == 1: line[x] = (line[x] + a) & 255
        elif f == 2: line[x] = (line[x] + b) & 255
        elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    for x in range(0, stride, bpp * 2):  # every other pixel: enough for the counts, twice as fast
        px = bytes(line[x:x + 3])
        if px != b"\xff\xff\xff":
            nonwhite += 1
        colours.add(px)
    prev = line
sampled = width * height // 2
share = nonwhite / sampled
print("screenshot %dx%d: %.1f %% of the sampled pixels not white, %d distinct colours" % (width, height, 100 * share, len(colours)))
if share < 0.05:
    fail("the screenshot is (nearly) blank: %.2f %% non-white" % (100 * share))
if len(colours) < 16:
    fail("the screenshot has only %d colours: the charts did not render" % len(colours))

# --- the DOM: every chart present, nothing that loads
dom = open(dom_path, encoding="utf-8").read()
missing = [c for c in charts if 'data-chart="%s"' % c not in dom]
if missing:
    fail("charts missing from the DOM: " + ", ".join(missing))
if dom.count("<svg") < len(charts):
    fail("fewer <svg> elements than charts")
print("dom: all %d charts present (%s)" % (len(charts), ", ".join(charts)))

# --- the net log: URL requests, the page's (any initiator but "not an origin") apart from chromium's own
def requests(path):
    log = json.load(open(path))
    names = {v: k for k, v in log["constants"]["logEventTypes"].items()}
    page, own = [], []
    for e in log["events"]:
        p = e.get("params", {})
        if names.get(e["type"]) == "URL_REQUEST_START_JOB" and "url" in p:
            (own if p.get("initiator") == "not an origin" else page).append(p["url"])
    return page, own

page, own = requests(netlog)
foreign = [u for u in page if u != url]
if foreign:
    fail("the report made requests: " + ", ".join(foreign))
print("net log: no request from the page; chromium's own background requests (offline): %d" % len(own))
cpage, _ = requests(control)
if "http://127.0.0.1:9/control.png" not in cpage:
    fail("the control page's <img> request is not in its net log: the check above would see nothing")
PY
echo "report_chromium: ok, network disabled by $how"
