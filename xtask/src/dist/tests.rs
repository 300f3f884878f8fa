//! The deployment's least-privilege facts, read from deploy/setlist.json, and the local/production header parity.

use super::*;

/// A JSON value: enough of a parser for the CloudFormation template (xtask keeps no dependencies).
#[derive(Debug, Clone, PartialEq)]
enum Json {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

impl Json {
    fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Obj(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
    fn at(&self, path: &[&str]) -> &Json {
        path.iter().fold(self, |v, k| v.get(k).unwrap_or_else(|| panic!("no {k} in path {path:?}")))
    }
    fn str(&self) -> &str {
        match self {
            Json::Str(s) => s,
            other => panic!("expected a string, got {other:?}"),
        }
    }
    /// A value or a list of values, as IAM writes Action and Resource.
    fn items(&self) -> Vec<&Json> {
        match self {
            Json::Arr(items) => items.iter().collect(),
            one => vec![one],
        }
    }
    fn members(&self) -> &[(String, Json)] {
        match self {
            Json::Obj(m) => m,
            other => panic!("expected an object, got {other:?}"),
        }
    }
    /// Every object anywhere below (and including) this value.
    fn walk<'a>(&'a self, out: &mut Vec<&'a Json>) {
        match self {
            Json::Obj(m) => {
                out.push(self);
                m.iter().for_each(|(_, v)| v.walk(out));
            }
            Json::Arr(a) => a.iter().for_each(|v| v.walk(out)),
            _ => {}
        }
    }
}

fn parse(text: &str) -> Json {
    let mut p = Parser { s: text.as_bytes(), i: 0 };
    let v = p.value();
    p.ws();
    assert_eq!(p.i, p.s.len(), "trailing characters after the JSON value");
    v
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }
    fn eat(&mut self, c: u8) {
        self.ws();
        assert_eq!(self.s.get(self.i), Some(&c), "expected {:?} at byte {}", c as char, self.i);
        self.i += 1;
    }
    fn value(&mut self) -> Json {
        self.ws();
        match self.s[self.i] {
            b'{' => {
                self.i += 1;
                let mut m = Vec::new();
                self.ws();
                if self.s[self.i] == b'}' {
                    self.i += 1;
                    return Json::Obj(m);
                }
                loop {
                    self.ws();
                    let k = self.string();
                    self.eat(b':');
                    m.push((k, self.value()));
                    self.ws();
                    self.i += 1;
                    match self.s[self.i - 1] {
                        b',' => continue,
                        b'}' => return Json::Obj(m),
                        c => panic!("unexpected {:?} at byte {}", c as char, self.i),
                    }
                }
            }
            b'[' => {
                self.i += 1;
                let mut a = Vec::new();
                self.ws();
                if self.s[self.i] == b']' {
                    self.i += 1;
                    return Json::Arr(a);
                }
                loop {
                    a.push(self.value());
                    self.ws();
                    self.i += 1;
                    match self.s[self.i - 1] {
                        b',' => continue,
                        b']' => return Json::Arr(a),
                        c => panic!("unexpected {:?} at byte {}", c as char, self.i),
                    }
                }
            }
            b'"' => Json::Str(self.string()),
            b't' => self.word("true", Json::Bool(true)),
            b'f' => self.word("false", Json::Bool(false)),
            b'n' => self.word("null", Json::Null),
            _ => {
                let start = self.i;
                while self.i < self.s.len() && matches!(self.s[self.i], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9') {
                    self.i += 1;
                }
                Json::Num(std::str::from_utf8(&self.s[start..self.i]).unwrap().parse().expect("a number"))
            }
        }
    }
    fn word(&mut self, w: &str, v: Json) -> Json {
        assert!(self.s[self.i..].starts_with(w.as_bytes()));
        self.i += w.len();
        v
    }
    fn string(&mut self) -> String {
        assert_eq!(self.s[self.i], b'"');
        self.i += 1;
        let mut out = Vec::new();
        loop {
            let c = self.s[self.i];
            self.i += 1;
            match c {
                b'"' => return String::from_utf8(out).unwrap(),
                b'\\' => {
                    let e = self.s[self.i];
                    self.i += 1;
                    match e {
                        b'n' => out.push(b'\n'),
                        b't' => out.push(b'\t'),
                        b'r' => out.push(b'\r'),
                        b'u' => {
                            let hex = std::str::from_utf8(&self.s[self.i..self.i + 4]).unwrap();
                            self.i += 4;
                            let ch = char::from_u32(u32::from_str_radix(hex, 16).unwrap()).unwrap();
                            out.extend(ch.to_string().as_bytes());
                        }
                        other => out.push(other),
                    }
                }
                c => out.push(c),
            }
        }
    }
}

fn template() -> Json {
    parse(&std::fs::read_to_string(root().join(TEMPLATE)).unwrap())
}

fn resources(t: &Json) -> Vec<(&str, &Json)> {
    t.at(&["Resources"]).members().iter().map(|(k, v)| (k.as_str(), v)).collect()
}

fn of_type<'a>(t: &'a Json, ty: &str) -> Vec<(&'a str, &'a Json)> {
    resources(t).into_iter().filter(|(_, r)| r.at(&["Type"]).str() == ty).collect()
}

fn actions(statement: &Json) -> Vec<String> {
    statement.get("Action").map(|a| a.items().iter().map(|x| x.str().to_owned()).collect()).unwrap_or_default()
}

/// Every IAM statement in the template: role policies, managed policies, bucket and secret resource policies.
fn statements(t: &Json) -> Vec<(&str, &Json)> {
    let mut out = Vec::new();
    for (name, r) in resources(t) {
        let mut objects = Vec::new();
        r.walk(&mut objects);
        for o in objects {
            if let Some(Json::Arr(stmts)) = o.get("Statement") {
                out.extend(stmts.iter().map(|s| (name, s)));
            }
        }
    }
    out
}

#[test]
fn the_parser_reads_what_it_needs() {
    let v = parse(r#"{"a": [1, -2.5e1, true, null, "x\"\u00e9"], "b": {}}"#);
    assert_eq!(v.at(&["a"]).items().len(), 5);
    assert_eq!(v.at(&["a"]).items()[4].str(), "x\"é");
    assert_eq!(v.at(&["b"]), &Json::Obj(vec![]));
}

#[test]
fn every_secretsmanager_statement_names_only_the_one_secret() {
    let t = template();
    let secrets = of_type(&t, "AWS::SecretsManager::Secret");
    assert_eq!(secrets.len(), 1, "exactly one secret");
    let the_secret = Json::Obj(vec![("Ref".into(), Json::Str(secrets[0].0.into()))]);
    let mut seen = 0;
    for (owner, s) in statements(&t) {
        let acts = actions(s);
        assert!(s.get("NotAction").is_none() && s.get("NotResource").is_none(), "{owner}: no NotAction/NotResource");
        if !acts.iter().any(|a| a.to_ascii_lowercase().starts_with("secretsmanager:") || a == "*") {
            continue;
        }
        seen += 1;
        assert!(!acts.iter().any(|a| a == "*" || a == "secretsmanager:*"), "{owner}: wildcard action {acts:?}");
        let res = s.get("Resource").unwrap_or_else(|| panic!("{owner}: a secretsmanager statement without Resource"));
        assert_eq!(res.items(), vec![&the_secret], "{owner}: secretsmanager statement must name only the secret");
    }
    // The sink's role, the job's role, the secret's resource policy.
    assert!(seen >= 3, "expected the sink, job and resource-policy statements, saw {seen}");
}

#[test]
fn the_secret_policy_denies_everyone_but_the_sink_and_job_roles() {
    let t = template();
    let (_, policy) = of_type(&t, "AWS::SecretsManager::ResourcePolicy")[0];
    assert_eq!(policy.at(&["Properties", "BlockPublicPolicy"]), &Json::Bool(true));
    let stmts = policy.at(&["Properties", "ResourcePolicy", "Statement"]).items();
    let deny = stmts.iter().find(|s| s.at(&["Effect"]).str() == "Deny").expect("a Deny statement");
    assert_eq!(deny.at(&["Principal"]).str(), "*");
    for needed in ["secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue", "secretsmanager:UpdateSecretVersionStage"] {
        assert!(actions(deny).iter().any(|a| a == needed), "the deny must cover {needed}");
    }
    let except = deny.at(&["Condition", "StringNotEquals", "aws:PrincipalArn"]).items();
    let roles: Vec<&str> = except.iter().map(|e| e.at(&["Fn::GetAtt"]).items()[0].str()).collect();
    assert_eq!(roles, vec!["SinkRole", "JobRole"]);
    // Nothing in the template allows anyone else in.
    for s in stmts {
        assert_ne!(s.at(&["Effect"]).str(), "Allow", "the resource policy only denies");
    }
}

#[test]
fn the_function_url_needs_iam_and_only_this_distribution_may_invoke() {
    let t = template();
    let urls = of_type(&t, "AWS::Lambda::Url");
    assert_eq!(urls.len(), 1);
    assert_eq!(urls[0].1.at(&["Properties", "AuthType"]).str(), "AWS_IAM");
    let perms = of_type(&t, "AWS::Lambda::Permission");
    assert!(!perms.is_empty());
    for (name, p) in perms {
        let props = p.at(&["Properties"]);
        assert_eq!(props.at(&["Principal"]).str(), "cloudfront.amazonaws.com", "{name}");
        let src = props.at(&["SourceArn", "Fn::Sub"]).str();
        assert!(src.ends_with(":distribution/${Distribution}"), "{name}: scoped to this distribution, got {src}");
    }
}

#[test]
fn origin_access_controls_always_sign() {
    let t = template();
    let oacs = of_type(&t, "AWS::CloudFront::OriginAccessControl");
    let kinds: Vec<&str> = oacs.iter().map(|(_, o)| o.at(&["Properties", "OriginAccessControlConfig", "OriginAccessControlOriginType"]).str()).collect();
    assert!(kinds.contains(&"s3") && kinds.contains(&"lambda"), "{kinds:?}");
    for (name, o) in oacs {
        let c = o.at(&["Properties", "OriginAccessControlConfig"]);
        assert_eq!(c.at(&["SigningBehavior"]).str(), "always", "{name}");
        assert_eq!(c.at(&["SigningProtocol"]).str(), "sigv4", "{name}");
    }
    // The bucket is private.
    let (_, bucket) = of_type(&t, "AWS::S3::Bucket")[0];
    for flag in ["BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"] {
        assert_eq!(bucket.at(&["Properties", "PublicAccessBlockConfiguration", flag]), &Json::Bool(true), "{flag}");
    }
}

#[test]
fn api_behaviour_goes_to_the_sink_uncached_without_the_host_header() {
    let t = template();
    let (_, dist) = of_type(&t, "AWS::CloudFront::Distribution")[0];
    let behaviours = dist.at(&["Properties", "DistributionConfig", "CacheBehaviors"]).items();
    let api = behaviours.iter().find(|b| b.at(&["PathPattern"]).str() == "/api/*").expect("an /api/* behaviour");
    assert_eq!(api.at(&["TargetOriginId"]).str(), "sink");
    // Managed policies: CachingDisabled and AllViewerExceptHostHeader.
    assert_eq!(api.at(&["CachePolicyId"]).str(), "4135ea2d-6df8-44a3-9df3-4b5a84be39ad");
    assert_eq!(api.at(&["OriginRequestPolicyId"]).str(), "b689b0a8-53d0-40ab-baf2-68738e2966ac");
    assert!(api.at(&["AllowedMethods"]).items().contains(&&Json::Str("POST".into())));
}

#[test]
fn the_template_csp_is_the_production_one_and_strict() {
    let t = template();
    let (_, policy) = of_type(&t, "AWS::CloudFront::ResponseHeadersPolicy")[0];
    let sec = policy.at(&["Properties", "ResponseHeadersPolicyConfig", "SecurityHeadersConfig"]);
    let csp_text = sec.at(&["ContentSecurityPolicy", "ContentSecurityPolicy"]).str();
    assert_eq!(csp_text, csp(SPOTIFY_ACCOUNTS, SPOTIFY_API, &[]), "template CSP differs from xtask's (dist::csp)");
    assert!(!csp_text.contains("unsafe-inline") && !csp_text.contains("'unsafe-eval'"), "{csp_text}");
    assert!(csp_text.contains("'wasm-unsafe-eval'"));
    let directive = |name: &str| -> Vec<&str> {
        csp_text
            .split(';')
            .map(str::trim)
            .find_map(|d| d.strip_prefix(name).filter(|r| r.starts_with(' ')))
            .unwrap_or_else(|| panic!("no {name}"))
            .split_whitespace()
            .collect()
    };
    assert_eq!(directive("frame-ancestors"), ["'none'"]);
    assert_eq!(directive("base-uri"), ["'none'"]);
    assert_eq!(directive("connect-src"), ["'self'", "https://accounts.spotify.com", "https://api.spotify.com"]);
    let img = directive("img-src");
    for host in SPOTIFY_IMAGE_HOSTS {
        assert!(img.contains(host), "img-src must allow {host}");
    }
    assert_eq!(sec.at(&["ReferrerPolicy", "ReferrerPolicy"]).str(), "no-referrer");
    assert!(sec.get("StrictTransportSecurity").is_some() && sec.get("ContentTypeOptions").is_some());
    let custom = policy.at(&["Properties", "ResponseHeadersPolicyConfig", "CustomHeadersConfig", "Items"]).items();
    assert!(custom.iter().any(|h| h.at(&["Header"]).str() == "Cross-Origin-Opener-Policy" && h.at(&["Value"]).str() == "same-origin"));
    // Every behaviour sends these headers.
    let (_, dist) = of_type(&t, "AWS::CloudFront::Distribution")[0];
    let cfg = dist.at(&["Properties", "DistributionConfig"]);
    let mut behaviours = vec![cfg.at(&["DefaultCacheBehavior"])];
    behaviours.extend(cfg.at(&["CacheBehaviors"]).items());
    for b in behaviours {
        assert_eq!(b.at(&["ResponseHeadersPolicyId", "Ref"]).str(), "SecurityHeaders");
    }
}

#[test]
fn the_local_csp_differs_only_by_the_stand_in_origin() {
    let stand_in = "http://127.0.0.1:8090";
    let local = csp(stand_in, &format!("{stand_in}/v1"), &[stand_in.to_owned()]);
    assert!(local.contains("connect-src 'self' http://127.0.0.1:8090;"), "{local}");
    assert!(local.contains("https://image-cdn-fa.spotifycdn.com http://127.0.0.1:8090;"), "{local}");
    let prod = csp(SPOTIFY_ACCOUNTS, SPOTIFY_API, &[]);
    let strip = |s: &str| s.replace(" http://127.0.0.1:8090", "");
    assert_eq!(
        strip(&local),
        prod.replace(" https://accounts.spotify.com https://api.spotify.com", "")
    );
}

#[test]
fn the_generated_trunk_config_makes_paths_absolute_and_adds_headers() {
    let base = "[build]\ntarget = \"index.html\"\noffline = true\n\n[watch]\nignore = [\"tests\", \"no-such-dir\", \"xtask\"]\n";
    let headers = security_headers("http://127.0.0.1:1", "http://127.0.0.1:1/v1", &[]);
    let r = root();
    let out = generated_trunk_toml(base, &r, &headers).unwrap();
    assert!(out.contains(&format!("target = \"{}/index.html\"\n", r.display())), "{out}");
    // A path that does not exist is dropped: Trunk refuses to start on it (a fresh clone has no dist/).
    assert!(out.contains(&format!("ignore = [\"{0}/tests\", \"{0}/xtask\"]\n", r.display())), "{out}");
    assert!(out.contains("[serve.headers]\n\"Content-Security-Policy\" = \"default-src 'none';"), "{out}");
    assert!(out.contains("\"Referrer-Policy\" = \"no-referrer\"\n"));
    // And it works on the real Trunk.toml.
    let real = std::fs::read_to_string(root().join("Trunk.toml")).unwrap();
    let out = generated_trunk_toml(&real, &root(), &headers).unwrap();
    assert!(out.contains(&format!("target = \"{}/index.html\"", root().display())), "{out}");
}

#[test]
fn inline_scripts_move_to_hashed_files() {
    let html = "<html><head><link rel=\"modulepreload\" href=\"/a.js\"></head><body>\n<script type=\"module\">\nimport init from '/setlist-0123456789abcdef.js';\nconst wasm = await init('/x_bg.wasm');\n</script><script>const address = '{{__TRUNK_ADDRESS__}}'; const base = '{{__TRUNK_WS_BASE__}}';</script><script src=\"/keep.js\"></script></body></html>";
    let (out, files) = externalize_scripts(html, "/");
    assert_eq!(files.len(), 2);
    assert!(files[0].0.starts_with("boot-") && files[0].0.ends_with(".js"));
    assert!(files[0].1.starts_with("import init from '/setlist-0123456789abcdef.js';"));
    assert!(files[1].1.contains("const address = window.location.host; const base = '/';"), "{}", files[1].1);
    assert!(out.contains(&format!("<script type=\"module\" src=\"/{}\"></script>", files[0].0)), "{out}");
    assert!(out.contains("<script src=\"/keep.js\"></script>"));
    assert_eq!(inline_script(&out), None);
    // Same code, same name (the cache key); different code, different name.
    assert_eq!(externalize_scripts(html, "/").1[0].0, files[0].0);
    assert_ne!(externalize_scripts(&html.replace("x_bg", "y_bg"), "/").1[0].0, files[0].0);
    assert_eq!(cache_control(&files[0].0), "public, max-age=31536000, immutable");
}

#[test]
fn hashed_files_cache_for_a_year_and_the_rest_revalidate() {
    assert_eq!(cache_control("setlist-1a2b3c4d5e6f7a8b_bg.wasm"), "public, max-age=31536000, immutable");
    assert_eq!(cache_control("setlist-1a2b3c4d5e6f7a8b.js"), "public, max-age=31536000, immutable");
    assert_eq!(cache_control("main-1a2b3c4d5e6f7a8b.css"), "public, max-age=31536000, immutable");
    assert_eq!(cache_control("index.html"), "no-cache");
    assert_eq!(cache_control("config.json"), "no-cache");
    assert_eq!(cache_control("favicon.svg"), "no-cache");
}

#[test]
fn the_newest_glibc_symbol_version_is_found() {
    let dump = "0000 DF *UND* 0000 (GLIBC_2.2.5) memcpy\n0000 DF *UND* (GLIBC_2.34) __libc_start_main\n0000 DF *UND* (GLIBC_2.17) clock_gettime\n";
    assert_eq!(max_glibc(dump), Some((2, 34)));
    assert_eq!(max_glibc("no versions here"), None);
    assert!(max_glibc("(GLIBC_2.39) x") > Some(AL2023_GLIBC));
}
