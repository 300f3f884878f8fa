"""Push load on the sink: N identical, valid pushes at a fixed 200/s on one keep-alive connection, for
`cargo xtask bench`. After the first write each push is the steady state (allow-list answer cached, chain
unchanged). usage: sink_load.py STAND_IN_URL SINK_PORT [N] [STORE]; prints one JSON line."""
import hashlib, http.client, json, sys, time, urllib.request
standin, sink = sys.argv[1], int(sys.argv[2])
tok = json.load(urllib.request.urlopen(urllib.request.Request(f"{standin}/__control/tokens", data=json.dumps({"user_id":"alice.setlist"}).encode(), headers={"content-type":"application/json"})))
now = int(time.time())
body = json.dumps({"access_token": tok["access_token"], "expires_at": now + 3600, "refresh_token": tok["refresh_token"], "scope": tok.get("scope",""), "authorized_at": now, "prev_refresh_sha256": None}).encode()
h = {"content-type": "application/json", "x-amz-content-sha256": hashlib.sha256(body).hexdigest()}
c = http.client.HTTPConnection("127.0.0.1", sink)
lat = []; statuses = {}
N = int(sys.argv[3]) if len(sys.argv) > 3 else 2000
interval = 1/200
t_start = time.perf_counter()
for i in range(N):
    due = t_start + i*interval
    d = due - time.perf_counter()
    if d > 0: time.sleep(d)
    t0 = time.perf_counter(); c.request("POST", "/api/tokens", body=body, headers=h); r = c.getresponse(); r.read(); t1 = time.perf_counter()
    lat.append((t1-t0)*1000); statuses[r.status] = statuses.get(r.status,0)+1
el = time.perf_counter()-t_start
lat.sort()
store = sys.argv[4] if len(sys.argv) > 4 else "file"
print(json.dumps({"metric":"sink","store":store,"n":N,"rate_per_s":round(N/el,1),"p50_ms":round(lat[N//2],3),"p99_ms":round(lat[int(N*0.99)],3),"max_ms":round(lat[-1],3),"statuses":statuses}))
