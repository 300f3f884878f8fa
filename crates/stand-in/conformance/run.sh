#!/usr/bin/env bash
# Checks the stand-in's Web API against the reference OpenAPI document with schemathesis: every implemented
# playlist and search operation, authenticated as alice.setlist, with response bodies, status codes, content types
# and headers validated against the document (amended only as hooks.py explains) and no 5xx allowed.
#
# usage: crates/stand-in/conformance/run.sh STAND_IN_URL
#   STAND_IN_URL  a running stand-in started with --control, e.g. http://127.0.0.1:8090 (it mints the token there)
# environment:
#   SETLIST_SPOTIFY_SPEC        the reference document (default: reference/spotify-web-api.openapi.yml, a copy of shared/reference
#                               beside the repository)
#   CONFORMANCE_MAX_EXAMPLES    test cases per operation and phase (default 100; well under a minute in all)
#   CONFORMANCE_SEED            schemathesis seed (default fixed, so runs are reproducible)
#   CONFORMANCE_CHECKS          "suite" (default): the checks above, which the stand-in passes; "all": schemathesis's
#                               --checks all, adding negative_data_rejection, positive_data_acceptance,
#                               use_after_free, ensure_resource_availability, ignored_auth and the rest. The issue 14
#                               run is CONFORMANCE_CHECKS=all CONFORMANCE_MAX_EXAMPLES=200; what it still reports is
#                               listed in hooks.py (each a gap in the reference document, not in the stand-in), so
#                               that mode exits non-zero and is not part of `cargo xtask test`. It runs schemathesis
#                               once per operation (see below), amends the document's gaps (hooks.py) and ends with
#                               the requests per operation and every refusal of a request valid by the document.
# Installs schemathesis 4 with pip when it is missing. Exits with schemathesis's exit code (the last failing one).
set -euo pipefail

if [[ $# -ne 1 ]]; then
    echo "usage: $0 STAND_IN_URL" >&2
    exit 2
fi
url="${1%/}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
spec="${SETLIST_SPOTIFY_SPEC:-$repo/reference/spotify-web-api.openapi.yml}"
max_examples="${CONFORMANCE_MAX_EXAMPLES:-100}"
seed="${CONFORMANCE_SEED:-20261128}"
case "${CONFORMANCE_CHECKS:-suite}" in
    suite)
        checks=not_a_server_error,status_code_conformance,content_type_conformance
        checks+=,response_headers_conformance,response_schema_conformance
        continue_on_failure=() ;;
    # Without --continue-on-failure an operation stops at its first failure, long before its examples are spent.
    all) checks=all; continue_on_failure=(--continue-on-failure) ;;
    *) echo "conformance: CONFORMANCE_CHECKS is suite or all, not ${CONFORMANCE_CHECKS}" >&2; exit 2 ;;
esac

if [[ ! -f "$spec" ]]; then
    echo "conformance: reference document not found at $spec (set SETLIST_SPOTIFY_SPEC)" >&2
    exit 2
fi

python="$(command -v python3 || command -v python)"
if ! "$python" -c 'import sys, schemathesis; sys.exit(0 if int(schemathesis.__version__.split(".")[0]) >= 4 else 1)' \
    >/dev/null 2>&1; then
    echo "conformance: installing schemathesis 4 with pip" >&2
    "$python" -m pip install --quiet --disable-pip-version-check 'schemathesis>=4.3,<5'
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# The token, the playlists to aim at and the URIs to add, read from the stand-in itself; then the config.
export CONFORMANCE_URL="$url" CONFORMANCE_WORK="$work" CONFORMANCE_HOOKS="$here/hooks.py"
"$python" - <<'PY'
import json
import os
import urllib.request

url = os.environ["CONFORMANCE_URL"]
work = os.environ["CONFORMANCE_WORK"]


def call(path, body=None, token=None):
    request = urllib.request.Request(url + path, data=None if body is None else json.dumps(body).encode())
    if token:
        request.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)
    except OSError as error:
        raise SystemExit(f"conformance: {url}{path}: {error} (is a stand-in with --control running there?)")


scope = ("playlist-read-private playlist-read-collaborative playlist-modify-public playlist-modify-private "
         "user-read-private user-read-email")
token = call("/__control/tokens", {"user_id": "alice.setlist", "scope": scope})["access_token"]
with open(os.path.join(work, "token"), "w") as f:
    f.write(token)

library = call("/v1/me/playlists?limit=50", token=token)["items"]
# All of alice's library: her own lists, a collaborative one of chen's (she may edit it) and bruno's "Lagos
# Nights" (403 for her); but not "Podcasts & Oddities" (see ODDITIES in hooks.py).
playlist_ids = [p["id"] for p in library if p["id"] != "Ha8hq6iNE7obZvWidSTtIf"]
# Their snapshots as the run starts: writes naming one are applied against that version (while the stand-in still
# keeps it), so fuzzing reaches snapshot-relative reorders and removes, not only "Missing or bad version tag".
snapshot_ids = [p["snapshot_id"] for p in library if p["id"] != "Ha8hq6iNE7obZvWidSTtIf"]
# Catalog tracks to add, from search (stateless, unlike playlists an earlier run may have emptied).
track_uris = []
for offset in range(0, 40, 10):
    page = call(f"/v1/search?q=the&type=track&limit=10&offset={offset}", token=token)["tracks"]
    track_uris += [track["uri"] for track in page["items"]]
uri_lists = track_uris[:10] + [",".join(track_uris[i:i + 3]) for i in range(0, 15, 3)]


def toml_list(values):
    return "[" + ", ".join(json.dumps(v) for v in values) + "]"


config = f"""
hooks = {json.dumps(os.environ["CONFORMANCE_HOOKS"])}

[cache]
enabled = false

[phases.stateful]
enabled = false

[dictionaries.playlist_ids]
values = {toml_list(playlist_ids)}

[dictionaries.snapshot_ids]
values = {toml_list(snapshot_ids)}

[dictionaries.track_uris]
values = {toml_list(track_uris)}

[dictionaries.track_uri_lists]
values = {toml_list(uri_lists)}

[parameters]
"path.playlist_id" = {{ dictionary = "playlist_ids", probability = 0.9 }}
"body.uris[*]" = {{ dictionary = "track_uris", probability = 0.9 }}
"body.items[*].uri" = {{ dictionary = "track_uris", probability = 0.9 }}
"query.uris" = {{ dictionary = "track_uri_lists", probability = 0.5 }}
"body.snapshot_id" = {{ dictionary = "snapshot_ids", probability = 0.7 }}

"""
with open(os.path.join(work, "schemathesis.toml"), "w") as f:
    f.write(config)
PY
token="$(cat "$work/token")"

cd "$work"
operations=(
    get-a-list-of-current-users-playlists
    create-playlist
    get-playlist
    change-playlist-details
    get-playlists-items
    add-items-to-playlist
    reorder-or-replace-playlists-items
    remove-items-playlist
    search
)
run_schemathesis() {
    local selected=()
    for operation in "$@"; do
        selected+=(--include-operation-id "$operation")
    done
    schemathesis --config-file "$work/schemathesis.toml" run "$spec" \
        --url "$url/v1" \
        --header "Authorization: Bearer $token" \
        "${selected[@]}" \
        --checks "$checks" \
        "${continue_on_failure[@]}" \
        --phases examples,coverage,fuzzing \
        --max-examples "$max_examples" \
        --seed "$seed" \
        --workers 1 \
        --request-timeout 30 \
        --generation-database none \
        --no-color
}
status=0
if [[ "${CONFORMANCE_CHECKS:-suite}" == all ]]; then
    # One run per operation: in one run, the writes of the others move the playlists on while Hypothesis replays a
    # failure that depends on them (a snapshot still kept, a length), the replay passes, and Hypothesis gives that
    # operation up after a few dozen examples. Run alone, each operation gets its examples.
    for operation in "${operations[@]}"; do
        run_schemathesis "$operation" || status=$?
    done
else
    run_schemathesis "${operations[@]}" || status=$?
fi
if [[ "${CONFORMANCE_CHECKS:-suite}" == all && -f "$work/calls.jsonl" ]]; then
    # Requests per operation, then each refusal of a request generated as valid (hooks.py explains each).
    "$python" -c '
import collections, json, sys
calls = [json.loads(line) for line in open(sys.argv[1])]
print("conformance: requests per operation:")
for operation, n in sorted(collections.Counter(c[0] for c in calls).items()):
    print(f"  {n:6}  {operation}")
print("conformance: requests valid by the document that the stand-in refused, by operation and message:")
refused = collections.Counter((c[0], c[1], c[2]) for c in calls if c[2] is not None)
for (operation, status, message), n in sorted(refused.items()):
    print(f"  {n:6}  {operation}  {status}  {message}")
' "$work/calls.jsonl"
fi
exit "$status"
