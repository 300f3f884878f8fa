"""Schemathesis hooks for the stand-in's conformance run (see run.sh).

The reference document (shared/reference/spotify-web-api.openapi.yml) lists only 2xx, 401, 403 and 429 for the
playlist and search operations, yet Spotify answers malformed input with 400 and an unknown playlist id with 404,
in the same `{"error": {"status", "message"}}` shape, and documents both on its "response status codes" page.
Schemathesis deliberately sends malformed input (negative mode, boundary values), so as written the document would
fail `status_code_conformance` on every correct rejection.

Rather than switching that check off, this hook adds the document's own `BadRequest` and `NotFound` responses
(components/responses) to exactly the operations under test: 400 everywhere, 404 where a playlist id is in the
path. Those answers are then still validated against the error schema, and any other undocumented status (a 405,
a 415, a 422 from a framework default, a 5xx) still fails.

`fields` trims an answer down to what it names, so nearly every value (the document's own example
`items(added_by.id,track(name,href,album(name,href)))` included) drops fields that the document's response schemas
require (`href`, `limit`, `total` ...): a correct filter cannot pass the schema check with them. Rather than switch
the check off for these operations, the hook removes that example and, just before each request, swaps any
`fields` value for one of a few filters that keep every required field ("" is no filter), picked from the
generated value so runs stay reproducible. The filter itself is covered by the stand-in's own tests.

The seeded playlist "Podcasts & Oddities" (ODDITIES) holds local files, which Spotify sends, and the stand-in
with it, with `"id": null` (and null hrefs and dates) on the track, its album and artist, where the document types
them as plain strings. Requests that would reach it (schemathesis also reuses ids it saw in earlier answers) are
pointed at an ordinary playlist of alice's instead.

With CONFORMANCE_CHECKS=all (run.sh), two more things happen.

GAPS: the constraints the document states only in prose, or not at all, though Spotify enforces them, are written
into the schema, so that `positive_data_acceptance` does not count Spotify's documented refusals as the stand-in's
fault: offsets are never negative (and at most 100,000 for /me/playlists, said in prose); a playlist id is 22
base62 characters (the spotify-uris-ids page); `q` is not blank; a playlist name is not blank; at most 100 URIs
per add, replace or remove ("A maximum of 100 ...") and each a track or episode URI (a remove also takes local
files); a remove's item needs its `uri`; create's and remove's bodies (whose `name` and `items` are required) must
be there; an add needs its `uris` in the body or the query; reorder indices are not negative and `range_length`
is at least 1.

What the schema cannot say stays, and is what an `all` run still reports (issue 14). Every such answer is a 400
with Spotify's message, and the after_call hook lists them by operation and message at the end of the run, so that
one failure per operation in schemathesis's summary does not hide the others:
- "Payload contains a non-existing ID": a well-formed id that is not in the (synthetic) catalogue; the document
  cannot list which ids exist (its own examples are real Spotify ids).
- "Index out of bounds", "Invalid range", "Invalid insert_before": positions past the playlist's length; the
  length is state, not schema.
- "Missing or bad version tag": a `snapshot_id` is a value the server made, for one playlist; the document types it
  as any string. (run.sh offers the playlists' real snapshots as a dictionary, so snapshot-relative writes are
  fuzzed too; paired with another playlist's id they are still unknown.)
- "Invalid range_length", "Invalid offset" (and the other indices): integers past 64 bits; the document sets no
  maximum.
- "Replace (uris) and reorder (range_start, insert_before) cannot be combined", "Give uris to replace, or
  range_start and insert_before to reorder", "Missing range_start or insert_before": the description says
  replace and reorder are mutually exclusive and what each needs, but the schema makes every field optional.
- "Collaborative playlists can only be private": the document's notes ("to create a collaborative playlist you
  must also set `public` to `false`", "You can only set `collaborative` to `true` on non-public playlists"), and
  on a change it depends on the playlist's current visibility.

The issue 14 run (CONFORMANCE_CHECKS=all CONFORMANCE_MAX_EXAMPLES=200, seed 20261128, 2026-11-30): 216 to 314
requests per operation; GET /me/playlists, GET /playlists/{id}, GET /playlists/{id}/items and GET /search pass
every check; the five write operations each fail `positive_data_acceptance` only, with the messages above (create
and change details: collaborative and public; add: "Index out of bounds", "Payload contains a non-existing ID";
replace/reorder: both at once; remove: "Missing or bad version tag"). No 5xx, no schema, status, header or
content-type failure, no negative input accepted.
"""

import json
import os

import schemathesis

ALL = os.environ.get("CONFORMANCE_CHECKS") == "all"
WORK = os.environ.get("CONFORMANCE_WORK", ".")

# (path, method) -> statuses to add.
AMENDED = {
    ("/me/playlists", "get"): ("400",),
    ("/me/playlists", "post"): ("400",),
    ("/search", "get"): ("400",),
    ("/playlists/{playlist_id}", "get"): ("400", "404"),
    ("/playlists/{playlist_id}", "put"): ("400", "404"),
    ("/playlists/{playlist_id}/items", "get"): ("400", "404"),
    ("/playlists/{playlist_id}/items", "post"): ("400", "404"),
    ("/playlists/{playlist_id}/items", "put"): ("400", "404"),
    ("/playlists/{playlist_id}/items", "delete"): ("400", "404"),
}

ODDITIES = "Ha8hq6iNE7obZvWidSTtIf"
ORDINARY = "AwfEoGD23EoP1arvJveEnj"  # alice's "Morning Commute"

PAGING = "href,limit,next,offset,previous,total"
# Path -> `fields` values whose answers still satisfy the document's schema for that GET.
SAFE_FIELDS = {
    "/me/playlists": [
        "",
        PAGING + ",items",
        PAGING + ",items(id,name,owner(id,display_name),snapshot_id,items)",
    ],
    "/playlists/{playlist_id}": [
        "",
        "id,name,description,public,collaborative,snapshot_id,owner(id,display_name)",
        "!items,!tracks",
        "items(" + PAGING + ",items(added_at,item))",
    ],
    "/playlists/{playlist_id}/items": [
        "",
        PAGING + ",items(added_at,added_by,is_local,item,track)",
        "items.item(!available_markets),items.track(!album)," + PAGING,
    ],
}

REFS = {
    "400": "#/components/responses/BadRequest",
    "404": "#/components/responses/NotFound",
}


@schemathesis.hook
def before_load_schema(context, raw_schema):
    for (path, method), statuses in AMENDED.items():
        responses = raw_schema["paths"][path][method]["responses"]
        for status in statuses:
            responses.setdefault(status, {"$ref": REFS[status]})
    for path in SAFE_FIELDS:
        for parameter in raw_schema["paths"][path]["get"].get("parameters", []):
            if parameter.get("name") == "fields":
                parameter.get("schema", {}).pop("example", None)
    if ALL:
        _amend_gaps(raw_schema)


URI = "^spotify:(track|episode):[0-9A-Za-z]{22}$"
REMOVABLE_URI = "^(spotify:(track|episode):[0-9A-Za-z]{22}|spotify:local:.*)$"


def _parameters(raw_schema, operation):
    """An operation's parameters with $refs resolved (the components are edited in place, as intended)."""
    for parameter in operation.get("parameters", []):
        ref = parameter.get("$ref")
        if ref:
            parameter = raw_schema["components"]["parameters"][ref.rsplit("/", 1)[1]]
        yield parameter


def _body(operation):
    return operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})


def _amend_gaps(raw_schema):
    for path, method in AMENDED:
        operation = raw_schema["paths"][path][method]
        for parameter in _parameters(raw_schema, operation):
            schema = parameter.setdefault("schema", {})
            if parameter["name"] == "offset":
                schema["minimum"] = 0
                if path == "/me/playlists":
                    schema["maximum"] = 100_000  # "Maximum offset: 100.000" in its description
            elif parameter["name"] == "playlist_id":
                schema["pattern"] = "^[0-9A-Za-z]{22}$"
            elif parameter["name"] == "q":
                schema["pattern"] = "\\S"
            elif parameter["name"] == "position":
                schema["minimum"] = 0
            elif parameter["name"] == "uris":
                one = "spotify:(track|episode):[0-9A-Za-z]{22}"
                # An empty replace clears the playlist ("replacing or clearing items"); an add needs one.
                schema["pattern"] = f"^({one}(,{one}){{0,99}})?$" if method == "put" else f"^{one}(,{one}){{0,99}}$"
        body = _body(operation)
        properties = body.get("properties", {})
        if "name" in properties:
            properties["name"]["pattern"] = "\\S"
        if "uris" in properties:
            properties["uris"].update(maxItems=100)
            properties["uris"].setdefault("items", {})["pattern"] = URI
        for index in ("range_start", "insert_before", "position"):
            if index in properties:
                properties[index]["minimum"] = 0
        if "range_length" in properties:
            properties["range_length"]["minimum"] = 1
        if "items" in properties and (path, method) == ("/playlists/{playlist_id}/items", "delete"):
            properties["items"]["maxItems"] = 100
            element = properties["items"].setdefault("items", {})
            element["required"] = ["uri"]
            element.setdefault("properties", {}).setdefault("uri", {})["pattern"] = REMOVABLE_URI
    # Bodies whose schema has required fields, but which the document does not mark as required themselves.
    raw_schema["paths"]["/me/playlists"]["post"]["requestBody"]["required"] = True
    raw_schema["paths"]["/playlists/{playlist_id}/items"]["delete"]["requestBody"]["required"] = True
    add = raw_schema["paths"]["/playlists/{playlist_id}/items"]["post"]
    add["requestBody"]["required"] = True
    add_body = _body(add)
    add_body["required"] = ["uris"]
    add_body["properties"]["uris"]["minItems"] = 1


if ALL:
    @schemathesis.hook
    def after_call(context, case, response):
        """Records every call as (operation, status, message): the message of a refusal of a request generated as
        valid, else null. run.sh counts calls per operation and lists the refusals."""
        operation = f"{case.method.upper()} {case.operation.path}"
        # Cases without metadata are the document's own examples, meant to be valid.
        positive = case.meta is None or str(case.meta.generation.mode.value) == "positive"
        # 401, 403, 404, 409 and 429 are answers positive_data_acceptance itself allows (someone else's playlist).
        message = None
        if positive and response.status_code >= 400 and response.status_code not in (401, 403, 404, 409, 429):
            try:
                message = json.loads(response.content)["error"]["message"]
            except (ValueError, KeyError, TypeError):
                message = response.content[:80].decode("utf-8", "replace")
        with open(os.path.join(WORK, "calls.jsonl"), "a") as f:
            f.write(json.dumps([operation, response.status_code, message]) + "\n")


@schemathesis.hook
def before_call(context, case, kwargs):
    if isinstance(case.path_parameters, dict) and case.path_parameters.get("playlist_id") == ODDITIES:
        case.path_parameters["playlist_id"] = ORDINARY
    choices = SAFE_FIELDS.get(case.operation.path)
    if case.method.upper() != "GET" or choices is None or not isinstance(case.query, dict):
        return
    value = case.query.get("fields")
    if value is None:
        return
    picked = choices[sum(map(ord, str(value))) % len(choices)]
    if picked:
        case.query["fields"] = picked
    else:
        del case.query["fields"]
