"""Code bytes of a wasm module attributed to crates through its name section: the size profile behind the bundle row
of bench/results.md. twiggy does this and more (`cargo install twiggy; twiggy top`), but costs a long install; this
reads only the sections it needs. usage: python3 bench/wasm_size.py target/wasm32-unknown-unknown/release/setlist.wasm
(the release build before wasm-bindgen and wasm-opt, which still carries function names)."""
import sys, re, collections
data = open(sys.argv[1], 'rb').read()
def leb(b, i):
    r = s = 0
    while True:
        x = b[i]; i += 1; r |= (x & 0x7f) << s; s += 7
        if x < 0x80: return r, i
def name(b, i):
    n, i = leb(b, i); return b[i:i+n].decode('utf-8', 'replace'), i + n
i = 8; imports = 0; bodies = []; names = {}; sections = collections.Counter()
while i < len(data):
    sid = data[i]; i += 1; size, i = leb(data, i); end = i + size
    if sid == 0:
        nm, j = name(data, i); sections['custom:' + nm] += size
        if nm == 'name':
            while j < end:
                sub = data[j]; j += 1; ssz, j = leb(data, j); send = j + ssz
                if sub == 1:
                    cnt, j = leb(data, j)
                    for _ in range(cnt):
                        idx, j = leb(data, j); fn, j = name(data, j); names[idx] = fn
                j = send
    else:
        sections[sid] += size
        if sid == 2:
            cnt, j = leb(data, i)
            for _ in range(cnt):
                _, j = name(data, j); _, j = name(data, j); kind = data[j]; j += 1
                if kind == 0: _, j = leb(data, j); imports += 1
                elif kind == 1: j += 1; fl, j = leb(data, j); _, j = leb(data, j); j = (leb(data, j)[1] if fl & 1 else j)
                elif kind == 2: fl, j = leb(data, j); _, j = leb(data, j); j = (leb(data, j)[1] if fl & 1 else j)
                elif kind == 3: j += 2
        if sid == 10:
            cnt, j = leb(data, i)
            for k in range(cnt):
                sz, j2 = leb(data, j); bodies.append((imports + k, sz + (j2 - j))); j = j2 + sz
    i = end
def legacy(fn):
    m = re.match(r'_ZN(\d+)', fn)
    if not m: return None
    n = int(m.group(1)); seg = fn[m.end():m.end()+n]
    seg = seg.replace('_$LT$', '').replace('$LT$', '').replace('$RF$', '').replace('$u20$', ' ').replace('mut ', '').replace('dyn ', '')
    parts = seg.split(' as ')
    first = parts[0].lstrip('[(&*')
    ident = re.match(r'[A-Za-z_][A-Za-z0-9_]*', first)
    ident = ident.group(0) if ident else '?'
    if (len(ident) <= 2 and ident[:1].isupper()) or ident in ('str', 'u8', 'usize', 'bool', 'alloc', 'core', 'std') and len(parts) > 1:
        other = re.match(r'[A-Za-z_][A-Za-z0-9_]*', parts[1].lstrip('[(&*')) if len(parts) > 1 else None
        if other: return other.group(0)
    return ident

def crate(fn):
    l = legacy(fn)
    if l: return l
    # v0 mangling: the first crate root is `C` + optional `s<disambiguator>_` + <len><ident>; the defining crate is
    # usually the last one named before the item path, so take the crate of the innermost path (last match).
    ms = re.findall(r'C(?:s[0-9a-zA-Z]*_)?(\d+)([a-zA-Z_][a-zA-Z0-9_]*)', fn)
    out = []
    for n, ident in ms:
        out.append(ident[:int(n)])
    if out:
        return out[0]
    return fn[:40] if fn != '?' else '?'
by = collections.Counter()
for idx, sz in bodies:
    by[crate(names.get(idx, '?'))] += sz
total_code = sum(sz for _, sz in bodies)
print('bodies', len(bodies), 'imports', imports, 'named bodies', sum(1 for i,_ in bodies if i in names))
print(f"file {len(data)} bytes; code {total_code}; data section {sections[11]}; names known {len(names)}")
for c, sz in by.most_common(25):
    print(f"{sz:9d}  {100*sz/total_code:5.1f}%  {c}")
