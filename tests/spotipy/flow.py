"""A real Spotify client against the stand-in: spotipy (pinned in xtask/src/tools.rs) signs in through the stand-in's
own PKCE consent page and edits a playlist the way a spotipy user would, with every answer checked against what
Spotify's documented semantics say it must be (issue 14).

usage: python3 tests/spotipy/flow.py STAND_IN_URL CLIENT_ID REDIRECT_URI
  STAND_IN_URL  a running stand-in, e.g. http://127.0.0.1:8090
  CLIENT_ID     the client it has registered (xtask's CLIENT_ID)
  REDIRECT_URI  a redirect URI registered there; nothing needs to listen on it (the redirect is read, not followed)

Prints one line per step and `spotipy flow: PASS (N checks)` at the end; on the first failed check prints
`spotipy flow: FAIL: ...` and exits 1. `cargo xtask test conformance` runs it.
"""

import contextlib
import importlib.metadata
import logging
import re
import sys
import urllib.parse

import requests
import spotipy
from spotipy.cache_handler import MemoryCacheHandler

USER = "chen.setlist"
SCOPE = ("playlist-read-private playlist-read-collaborative playlist-modify-public playlist-modify-private "
         "user-read-private")
CHECKS = 0


class Failed(Exception):
    pass


def check(condition, what):
    global CHECKS
    CHECKS += 1
    if not condition:
        raise Failed(what)


def step(name):
    print(f"spotipy flow: {name}", flush=True)


@contextlib.contextmanager
def refusal_expected():
    """spotipy logs every error answer; a refusal the flow asks for is not one to print."""
    logger = logging.getLogger("spotipy")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


def sign_in(base, client_id, redirect_uri):
    """SpotifyPKCE's own authorize URL, agreed to on the consent page as a browser would post it."""
    auth = spotipy.SpotifyPKCE(
        client_id=client_id,
        redirect_uri=redirect_uri,
        scope=SCOPE,
        state="spotipy-flow",
        cache_handler=MemoryCacheHandler(),
        open_browser=False,
    )
    # The accounts service's addresses are class attributes; point this instance at the stand-in.
    auth.OAUTH_AUTHORIZE_URL = base + "/authorize"
    auth.OAUTH_TOKEN_URL = base + "/api/token"
    page = requests.get(auth.get_authorize_url(), timeout=30)
    check(page.status_code == 200, f"consent page answered {page.status_code}")
    found = re.search(r'name="request_id" value="([^"]+)"', page.text)
    check(found is not None, "consent page has no request_id")
    decision = requests.post(
        base + "/authorize/decision",
        data={"request_id": found.group(1), "user": USER, "action": "agree"},
        allow_redirects=False,
        timeout=30,
    )
    check(decision.status_code in (302, 303), f"consent answered {decision.status_code}")
    location = decision.headers["Location"]
    check(location.startswith(redirect_uri), f"redirected to {location}")
    query = urllib.parse.parse_qs(urllib.parse.urlparse(location).query)
    check(query.get("state") == ["spotipy-flow"], f"state came back as {query.get('state')}")
    code = auth.parse_response_code(location)
    token = auth.get_access_token(code, check_cache=False)
    check(bool(token), "no access token")
    client = spotipy.Spotify(auth_manager=auth, retries=0, status_retries=0)
    client.prefix = base + "/v1/"
    return client


def all_pages(client, page):
    items = list(page["items"])
    while page["next"]:
        page = client.next(page)
        items += page["items"]
    return items


def uris_of(client, playlist_id):
    page = client.playlist_items(playlist_id, limit=50, additional_types=("track", "episode"))
    return [entry["item"]["uri"] for entry in all_pages(client, page)]


def snapshot_of(client, playlist_id):
    return client.playlist(playlist_id, fields="snapshot_id")["snapshot_id"]


def reorder(items, start, before, length=1):
    """Spotify's range move, indices counted in the list before the move."""
    moved = items[start:start + length]
    rest = items[:start] + items[start + length:]
    at = before if before <= start else before - length
    return rest[:at] + moved + rest[at:]


def tracks_from_search(client, count):
    uris = []
    offset = 0
    while len(uris) < count:
        page = client.search("a", type="track", limit=10, offset=offset)["tracks"]
        check(page["items"], f"search ran out of tracks at offset {offset}")
        uris += [t["uri"] for t in page["items"] if t["uri"] not in uris]
        offset += 10
    return uris[:count]


def flow(base, client_id, redirect_uri):
    step("sign in with SpotifyPKCE through the consent page")
    sp = sign_in(base, client_id, redirect_uri)
    me = sp.me()  # spotipy asks for "me/": the trailing slash
    check(me["id"] == USER, f"me is {me['id']}")

    step("list playlists, paging with next")
    first = sp.current_user_playlists(limit=2)
    listed = all_pages(sp, first)
    check(len(listed) == first["total"] and first["total"] >= 3, f"listed {len(listed)} of {first['total']}")
    check(all(p["id"] and p["owner"]["id"] for p in listed), "a listed playlist without id or owner")

    step("create a playlist")
    created = sp.current_user_playlist_create("spotipy flow", public=False, description="made by spotipy")
    pid = created["id"]
    check(created["name"] == "spotipy flow" and created["public"] is False, f"created {created}")
    check(created["owner"]["id"] == USER, "created for someone else")
    check(sp.current_user_playlists(limit=1)["items"][0]["id"] == pid, "new playlist is not first in the library")

    step("add 250 tracks in batches of 100 (bare JSON array bodies)")
    tracks = tracks_from_search(sp, 260)
    batch = tracks[:250]
    for i in range(0, 250, 100):
        answer = sp.playlist_add_items(pid, batch[i:i + 100])
        check(answer.get("snapshot_id"), "add answered no snapshot_id")
    expected = list(batch)
    check(uris_of(sp, pid) == expected, "after the adds the list differs")
    # spotipy sends `position` in the query.
    sp.playlist_add_items(pid, tracks[250:252], position=10)
    expected[10:10] = tracks[250:252]
    check(uris_of(sp, pid) == expected, "a positioned add landed elsewhere")

    step("reorder ranges, on the current list and on an older snapshot")
    sp.playlist_reorder_items(pid, range_start=0, insert_before=252)
    expected = reorder(expected, 0, 252)
    sp.playlist_reorder_items(pid, range_start=200, insert_before=5, range_length=30)
    expected = reorder(expected, 200, 5, 30)
    check(uris_of(sp, pid) == expected, "after the reorders the list differs")
    old = snapshot_of(sp, pid)
    old_list = list(expected)
    sp.playlist_add_items(pid, [tracks[252]], position=0)
    expected.insert(0, tracks[252])
    # Computed on the old list: its last item to its front. Spotify applies it to the items it named.
    sp.playlist_reorder_items(pid, range_start=len(old_list) - 1, insert_before=0, snapshot_id=old)
    moved = old_list[-1]
    expected.remove(moved)
    expected.insert(expected.index(old_list[0]), moved)
    check(uris_of(sp, pid) == expected, "a reorder on an older snapshot landed elsewhere")

    step("remove every occurrence, and specific occurrences on an older snapshot")
    sp.playlist_add_items(pid, [expected[3]], position=100)  # a duplicate
    expected.insert(100, expected[3])
    doomed = [expected[3], expected[7]]
    sp.playlist_remove_all_occurrences_of_items(pid, doomed)
    expected = [u for u in expected if u not in doomed]
    check(uris_of(sp, pid) == expected, "remove all occurrences differs")
    old = snapshot_of(sp, pid)
    old_list = list(expected)
    sp.playlist_reorder_items(pid, range_start=0, insert_before=len(expected))
    expected = reorder(expected, 0, len(expected))
    sp.playlist_remove_specific_occurrences_of_items(
        pid, [{"uri": old_list[5], "positions": [5]}, {"uri": old_list[0], "positions": [0]}], snapshot_id=old
    )
    expected = [u for u in expected if u not in (old_list[5], old_list[0])]
    check(uris_of(sp, pid) == expected, "remove by position on an older snapshot differs")
    try:
        with refusal_expected():
            sp.playlist_remove_specific_occurrences_of_items(
                pid, [{"uri": old_list[1], "positions": [2]}], snapshot_id=old
            )
        check(False, "a position that does not hold the URI was accepted")
    except spotipy.SpotifyException as error:
        check(error.http_status == 400, f"a wrong position answered {error.http_status}")
    try:
        with refusal_expected():
            sp.playlist_reorder_items(pid, range_start=0, insert_before=2, snapshot_id="bm90IGEgc25hcHNob3Q=")
        check(False, "an unknown snapshot was accepted")
    except spotipy.SpotifyException as error:
        check(error.http_status == 400, f"an unknown snapshot answered {error.http_status}")
    check(uris_of(sp, pid) == expected, "a refused write changed the list")

    step("replace everything")
    sp.playlist_replace_items(pid, tracks[:20])
    check(uris_of(sp, pid) == tracks[:20], "replace differs")

    step("change details")
    sp.playlist_change_details(pid, name="spotipy flow, renamed", description="changed by spotipy")
    details = sp.playlist(pid, fields="name,description,public,collaborative")
    check(details == {"name": "spotipy flow, renamed", "description": "changed by spotipy", "public": False,
                      "collaborative": False}, f"details read back as {details}")

    step("read back with fields")
    page = sp.playlist_items(pid, fields="total,items(added_by.id,item(uri,name))", limit=5)
    check(set(page) == {"total", "items"} and page["total"] == 20, f"fields gave keys {sorted(page)}")
    check([e["item"]["uri"] for e in page["items"]] == tracks[:5], "fields page holds other items")
    check(all(set(e) == {"added_by", "item"} and e["added_by"] == {"id": USER} for e in page["items"]),
          "fields kept more than asked")
    # The reference's own exclusion example, on the `item` spelling.
    page = sp.playlist_items(pid, fields="items.item.album(!external_urls,images)", limit=3)
    album = page["items"][0]["item"]["album"]
    check("external_urls" not in album and "images" not in album and album.get("name"),
          f"exclusion gave {sorted(album)}")

    step("search every type")
    types = ["track", "artist", "album", "playlist", "show", "episode"]
    found = sp.search("the", type=",".join(types), limit=5)
    for kind in types:
        items = found[kind + "s"]["items"]
        check(items and all(i is None or i["type"] == kind for i in items), f"search {kind}: {items[:1]}")
        if kind not in ("playlist", "show"):  # two shows in the catalog; playlists may be null
            check(len(items) == 5 and found[kind + "s"]["total"] >= 5, f"search {kind} gave {len(items)}")


def main():
    if len(sys.argv) != 4:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    base, client_id, redirect_uri = sys.argv[1].rstrip("/"), sys.argv[2], sys.argv[3]
    try:
        flow(base, client_id, redirect_uri)
    except Failed as failure:
        print(f"spotipy flow: FAIL: {failure} (after {CHECKS} checks)", flush=True)
        return 1
    except spotipy.SpotifyException as error:
        print(f"spotipy flow: FAIL: {error.http_status} {error.msg} (after {CHECKS} checks)", flush=True)
        return 1
    print(f"spotipy flow: PASS ({CHECKS} checks, spotipy {importlib.metadata.version('spotipy')})", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
