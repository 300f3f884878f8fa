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

/// The name prefix of every user's token secret, as the sink's `SINK_SECRET_PREFIX` and the IAM resources spell it.
const TOKEN_PREFIX: &str = "setlist/${AWS::StackName}/tokens/";
/// What precedes a secret's name in its ARN.
const SECRET_ARN: &str = "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:";
/// The job role's one secret: Secrets Manager appends `-` and 6 random characters to a secret's name in its ARN.
const JOB_SECRET: &str = "${JobSpotifyUser}-??????";

/// The template with `from` replaced by `to` everywhere (it must occur): a mutant for the checks below.
fn mutant(from: &str, to: &str) -> Json {
    let text = std::fs::read_to_string(root().join(TEMPLATE)).unwrap();
    assert!(text.contains(from), "the template has no {from:?} to mutate");
    parse(&text.replace(from, to))
}

fn is_secrets_action(action: &str) -> bool {
    let a = action.to_ascii_lowercase();
    a == "*" || a.starts_with("secretsmanager:")
}

/// A `Resource` item as the text of its `Fn::Sub` (the only form the template's secret resources take).
fn sub_text(resource: &Json) -> Result<&str, String> {
    match resource {
        Json::Obj(m) if m.len() == 1 && m[0].0 == "Fn::Sub" => match &m[0].1 {
            Json::Str(s) => Ok(s),
            other => Err(format!("Fn::Sub of {other:?}")),
        },
        other => Err(format!("not a Fn::Sub string: {other:?}")),
    }
}

/// The least-privilege facts about secrets: no secret or secret policy in the stack (the sink creates each user's
/// secret); every statement with a secretsmanager action is the sink's or the job's role, has no wildcard action,
/// no NotAction/NotResource, and names only ARNs under the stack's token prefix: the whole prefix for the sink,
/// exactly `${JobSpotifyUser}-??????` for the job; only the sink may CreateSecret, and only names under the prefix;
/// the sink's and the job's actions are exactly what they call.
fn check_secret_statements(t: &Json) -> Result<(), String> {
    for ty in ["AWS::SecretsManager::Secret", "AWS::SecretsManager::ResourcePolicy"] {
        if !of_type(t, ty).is_empty() {
            return Err(format!("the stack holds a {ty}: secrets are per user, created by the sink"));
        }
    }
    let mut granted: Vec<(&str, String)> = Vec::new();
    for (owner, s) in statements(t) {
        if s.get("NotAction").is_some() || s.get("NotResource").is_some() {
            return Err(format!("{owner}: NotAction/NotResource"));
        }
        let acts = actions(s);
        if !acts.iter().any(|a| is_secrets_action(a)) {
            continue;
        }
        if let Some(wild) = acts.iter().find(|a| a.contains('*') || a.contains('?')) {
            return Err(format!("{owner}: wildcard action {wild}"));
        }
        let allowed_rest = match owner {
            "SinkRole" => "*",
            "JobRole" => JOB_SECRET,
            other => return Err(format!("{other}: only the sink's and the job's roles may name secrets")),
        };
        let res = s.get("Resource").ok_or(format!("{owner}: a secretsmanager statement without Resource"))?;
        for r in res.items() {
            let text = sub_text(r).map_err(|e| format!("{owner}: {e}"))?;
            let rest = text
                .strip_prefix(SECRET_ARN)
                .and_then(|t| t.strip_prefix(TOKEN_PREFIX))
                .ok_or(format!("{owner}: {text} is outside {SECRET_ARN}{TOKEN_PREFIX}"))?;
            if rest != allowed_rest {
                return Err(format!("{owner}: {text} must end in the prefix + {allowed_rest}"));
            }
        }
        if acts.iter().any(|a| a.eq_ignore_ascii_case("secretsmanager:CreateSecret")) {
            if owner != "SinkRole" {
                return Err(format!("{owner}: only the sink creates secrets"));
            }
            let name = s
                .get("Condition")
                .and_then(|c| c.get("StringLike"))
                .and_then(|c| c.get("secretsmanager:Name"))
                .ok_or(format!("{owner}: CreateSecret without a secretsmanager:Name condition"))?;
            if sub_text(name)? != format!("{TOKEN_PREFIX}*") {
                return Err(format!("{owner}: CreateSecret's secretsmanager:Name must be {TOKEN_PREFIX}*, got {name:?}"));
            }
        }
        granted.extend(acts.into_iter().map(|a| (owner, a)));
    }
    let of = |role: &str| {
        let mut a: Vec<String> = granted.iter().filter(|(o, _)| *o == role).map(|(_, a)| a.clone()).collect();
        a.sort();
        a.dedup();
        a
    };
    let expect = |names: &[&str]| {
        let mut a: Vec<String> = names.iter().map(|n| format!("secretsmanager:{n}")).collect();
        a.sort();
        a
    };
    let sink = expect(&["CreateSecret", "GetSecretValue", "PutSecretValue", "UpdateSecretVersionStage", "DescribeSecret"]);
    if of("SinkRole") != sink {
        return Err(format!("the sink's secretsmanager actions are {:?}, expected {sink:?}", of("SinkRole")));
    }
    let job = expect(&["GetSecretValue", "PutSecretValue", "UpdateSecretVersionStage", "DescribeSecret"]);
    if of("JobRole") != job {
        return Err(format!("the job's secretsmanager actions are {:?}, expected {job:?}", of("JobRole")));
    }
    Ok(())
}

/// The job role's secrets policy exists only when `JobSpotifyUser` is set: `Fn::If` on a condition that is exactly
/// "JobSpotifyUser is not empty", else `AWS::NoValue`.
fn check_job_policy_is_conditional(t: &Json) -> Result<(), String> {
    let (_, role) = resources(t).into_iter().find(|(n, _)| *n == "JobRole").ok_or("no JobRole")?;
    let mut found = 0;
    for policy in role.at(&["Properties", "Policies"]).items() {
        let mut objects = Vec::new();
        policy.walk(&mut objects);
        let names_secrets = objects.iter().any(|o| o.get("Action").is_some_and(|a| a.items().iter().any(|x| is_secrets_action(x.str()))));
        if !names_secrets {
            continue;
        }
        found += 1;
        let branches = policy.get("Fn::If").ok_or("the job's secrets policy is not under Fn::If")?.items();
        let [cond, _, otherwise] = branches[..] else { return Err(format!("Fn::If takes 3 items, got {}", branches.len())) };
        if otherwise != &Json::Obj(vec![("Ref".into(), Json::Str("AWS::NoValue".into()))]) {
            return Err(format!("the job's secrets policy must be AWS::NoValue otherwise, got {otherwise:?}"));
        }
        let definition = t.at(&["Conditions"]).get(cond.str()).ok_or(format!("no condition {}", cond.str()))?;
        let not_empty = parse(r#"{"Fn::Not": [{"Fn::Equals": [{"Ref": "JobSpotifyUser"}, ""]}]}"#);
        if definition != &not_empty {
            return Err(format!("condition {} must be JobSpotifyUser != \"\", got {definition:?}", cond.str()));
        }
    }
    if found != 1 {
        return Err(format!("expected one job secrets policy, found {found}"));
    }
    Ok(())
}

/// The sink's environment names the same prefix IAM grants, and the stack's output says so too.
fn check_sink_prefix(t: &Json) -> Result<(), String> {
    let (_, function) = of_type(t, "AWS::Lambda::Function").into_iter().find(|(n, _)| *n == "SinkFunction").ok_or("no SinkFunction")?;
    let env = function.at(&["Properties", "Environment", "Variables"]);
    if env.get("SINK_SECRET_ID").is_some() {
        return Err("SINK_SECRET_ID is gone: the sink takes SINK_SECRET_PREFIX".into());
    }
    let prefix = sub_text(env.get("SINK_SECRET_PREFIX").ok_or("no SINK_SECRET_PREFIX")?)?;
    if prefix != TOKEN_PREFIX {
        return Err(format!("SINK_SECRET_PREFIX is {prefix:?}, IAM grants {TOKEN_PREFIX:?}"));
    }
    let granted = format!("{SECRET_ARN}{prefix}*");
    let sink_resources: Vec<String> = statements(t)
        .into_iter()
        .filter(|(o, s)| *o == "SinkRole" && actions(s).iter().any(|a| is_secrets_action(a)))
        .flat_map(|(_, s)| s.at(&["Resource"]).items().into_iter().map(|r| sub_text(r).unwrap_or_default().to_owned()).collect::<Vec<_>>())
        .collect();
    if sink_resources.is_empty() || sink_resources.iter().any(|r| *r != granted) {
        return Err(format!("the sink's secret resources {sink_resources:?} are not exactly {granted}"));
    }
    let output = sub_text(t.at(&["Outputs", "TokenSecretPrefix", "Value"]))?;
    if output != prefix {
        return Err(format!("output TokenSecretPrefix {output:?} differs from SINK_SECRET_PREFIX {prefix:?}"));
    }
    Ok(())
}

/// A `pub(crate) const NAME: T = VALUE;`-style number from the sink's source, so the template follows the code.
fn sink_constant(file: &str, marker: &str) -> u64 {
    let text = std::fs::read_to_string(root().join("crates/sink/src").join(file)).unwrap();
    let at = text.find(marker).unwrap_or_else(|| panic!("no {marker:?} in crates/sink/src/{file}")) + marker.len();
    let digits: String = text[at..].chars().skip_while(|c| !c.is_ascii_digit()).take_while(char::is_ascii_digit).collect();
    digits.parse().unwrap_or_else(|_| panic!("no number after {marker:?} in {file}"))
}

/// CloudFront's default origin read timeout for custom origins, seconds: a slower origin is a bare 504 to the app.
const CLOUDFRONT_ORIGIN_READ_TIMEOUT_SECS: f64 = 30.0;

/// The Lambda outlives the sink's own deadline (so a slow upstream is the sink's 503 + Retry-After, not a Lambda
/// timeout) and ends before CloudFront gives up on the origin.
fn check_timeout(t: &Json, deadline_secs: u64) -> Result<(), String> {
    let (_, function) = of_type(t, "AWS::Lambda::Function").into_iter().find(|(n, _)| *n == "SinkFunction").ok_or("no SinkFunction")?;
    let Json::Num(timeout) = function.at(&["Properties", "Timeout"]) else { return Err("Timeout is not a number".into()) };
    if !(*timeout > deadline_secs as f64 && *timeout < CLOUDFRONT_ORIGIN_READ_TIMEOUT_SECS) {
        return Err(format!("Timeout {timeout} must be above the sink's {deadline_secs} s deadline and under CloudFront's 30 s"));
    }
    // No origin overrides CloudFront's read timeout to something shorter.
    let (_, dist) = of_type(t, "AWS::CloudFront::Distribution")[0];
    for origin in dist.at(&["Properties", "DistributionConfig", "Origins"]).items() {
        if let Some(Json::Num(read)) = origin.get("CustomOriginConfig").and_then(|c| c.get("OriginReadTimeout")) {
            if *read <= *timeout {
                return Err(format!("OriginReadTimeout {read} must exceed the Lambda's Timeout {timeout}"));
            }
        }
    }
    Ok(())
}

/// `ReservedConcurrentExecutions` is the `SinkReservedConcurrency` parameter (default 5), left out when it is 0.
fn check_reserved_concurrency(t: &Json) -> Result<(), String> {
    let param = t.at(&["Parameters"]).get("SinkReservedConcurrency").ok_or("no SinkReservedConcurrency parameter")?;
    if param.get("Default") != Some(&Json::Num(5.0)) || param.get("MinValue") != Some(&Json::Num(0.0)) {
        return Err(format!("SinkReservedConcurrency must default to 5 with MinValue 0: {param:?}"));
    }
    let (_, function) = of_type(t, "AWS::Lambda::Function").into_iter().find(|(n, _)| *n == "SinkFunction").ok_or("no SinkFunction")?;
    let reserved = function.at(&["Properties"]).get("ReservedConcurrentExecutions").ok_or("no ReservedConcurrentExecutions")?;
    let branches = reserved.get("Fn::If").ok_or("ReservedConcurrentExecutions is not an Fn::If")?.items();
    let expected_branches = parse(r#"[{"Ref": "SinkReservedConcurrency"}, {"Ref": "AWS::NoValue"}]"#);
    if branches.len() != 3 || Json::Arr(branches[1..].iter().map(|b| (*b).clone()).collect()) != expected_branches {
        return Err(format!("ReservedConcurrentExecutions must be Fn::If [cond, Ref SinkReservedConcurrency, AWS::NoValue]: {branches:?}"));
    }
    let definition = t.at(&["Conditions"]).get(branches[0].str()).ok_or("no such condition")?;
    if definition != &parse(r#"{"Fn::Not": [{"Fn::Equals": [{"Ref": "SinkReservedConcurrency"}, "0"]}]}"#) {
        return Err(format!("condition {} must be SinkReservedConcurrency != 0: {definition:?}", branches[0].str()));
    }
    Ok(())
}

#[test]
fn every_secretsmanager_statement_stays_within_the_stacks_token_prefix() {
    check_secret_statements(&template()).unwrap();
    check_job_policy_is_conditional(&template()).unwrap();
}

#[test]
fn the_secret_checks_catch_a_wider_grant() {
    let sink_arn = format!("{SECRET_ARN}{TOKEN_PREFIX}*");
    let job_arn = format!("{SECRET_ARN}{TOKEN_PREFIX}{JOB_SECRET}");
    let mutants = [
        // The sink beyond the stack's prefix, or every secret.
        (sink_arn.as_str(), format!("{SECRET_ARN}setlist/*")),
        (sink_arn.as_str(), "*".to_owned()),
        // The job on every user's secret, or on a name with any suffix.
        (job_arn.as_str(), format!("{SECRET_ARN}{TOKEN_PREFIX}*")),
        (job_arn.as_str(), format!("{SECRET_ARN}{TOKEN_PREFIX}${{JobSpotifyUser}}*")),
        // A wildcard action, a call the code does not make, CreateSecret for the job, a looser name condition.
        ("\"secretsmanager:DescribeSecret\"", "\"secretsmanager:Describe*\"".to_owned()),
        ("\"secretsmanager:DescribeSecret\"", "\"secretsmanager:DeleteSecret\"".to_owned()),
        (
            "\"secretsmanager:PutSecretValue\",\n                        \"secretsmanager:UpdateSecretVersionStage\",\n                        \"secretsmanager:DescribeSecret\"",
            "\"secretsmanager:PutSecretValue\",\n\"secretsmanager:UpdateSecretVersionStage\",\n\"secretsmanager:DescribeSecret\",\n\"secretsmanager:CreateSecret\"".to_owned(),
        ),
        ("\"secretsmanager:Name\": { \"Fn::Sub\": \"setlist/${AWS::StackName}/tokens/*\" }", "\"secretsmanager:Name\": \"*\"".to_owned()),
        ("\"StringLike\"", "\"StringLikeIfExists\"".to_owned()),
    ];
    for (from, to) in &mutants {
        assert!(check_secret_statements(&mutant(from, to)).is_err(), "not caught: {from} -> {to}");
    }
    // The job's grant made unconditional, or conditional on something else.
    let unconditional = mutant("\"Fn::If\": [\n              \"HasJobUser\",", "\"Fn::If\": [\n              \"HasDomain\",");
    assert!(check_job_policy_is_conditional(&unconditional).is_err());
}

#[test]
fn the_sink_is_told_the_prefix_iam_grants() {
    check_sink_prefix(&template()).unwrap();
    assert!(check_sink_prefix(&mutant("\"SINK_SECRET_PREFIX\": { \"Fn::Sub\": \"setlist/${AWS::StackName}/tokens/\" }", "\"SINK_SECRET_PREFIX\": { \"Fn::Sub\": \"setlist/${AWS::StackName}/\" }")).is_err());
    assert!(check_sink_prefix(&mutant("\"SINK_SECRET_PREFIX\"", "\"SINK_SECRET_ID\"")).is_err());
}

#[test]
fn the_sink_answers_before_lambda_and_cloudfront_give_up() {
    let deadline = sink_constant("handler.rs", "const DEADLINE: Duration =");
    assert_eq!(deadline, 12, "the sink's deadline moved: check the template's Timeout and docs/deploy.md");
    check_timeout(&template(), deadline).unwrap();
    for bad in ["\"Timeout\": 12,", "\"Timeout\": 10,", "\"Timeout\": 30,", "\"Timeout\": 60,"] {
        assert!(check_timeout(&mutant("\"Timeout\": 20,", bad), deadline).is_err(), "{bad}");
    }
}

#[test]
fn reserved_concurrency_follows_its_parameter() {
    check_reserved_concurrency(&template()).unwrap();
    assert!(check_reserved_concurrency(&mutant("{ \"Ref\": \"SinkReservedConcurrency\" }, { \"Ref\": \"AWS::NoValue\" }", "5, { \"Ref\": \"AWS::NoValue\" }")).is_err());
    assert!(check_reserved_concurrency(&mutant("\"ReservedConcurrentExecutions\"", "\"ProvisionedConcurrency\"")).is_err());
}

#[test]
fn the_sign_in_budget_and_the_job_user_are_parameters() {
    let t = template();
    let params = t.at(&["Parameters"]);
    let default = sink_constant("policy.rs", "pub const DEFAULT_SIGN_INS_PER_HOUR: u32 =");
    assert_eq!(params.at(&["SignInsPerHour", "Default"]), &Json::Num(default as f64), "the sink's own default");
    assert_eq!(params.at(&["SignInsPerHour", "MinValue"]), &Json::Num(1.0), "the sink refuses 0");
    let (_, function) = of_type(&t, "AWS::Lambda::Function").into_iter().find(|(n, _)| *n == "SinkFunction").unwrap();
    let env = function.at(&["Properties", "Environment", "Variables"]);
    assert_eq!(env.at(&["SINK_SIGN_INS_PER_HOUR", "Ref"]).str(), "SignInsPerHour");
    assert_eq!(env.at(&["SINK_ALLOW", "Ref"]).str(), "AllowedSpotifyUsers");
    // The job's user defaults to none, and can only be a name the sink's records can have (check_user_id).
    assert_eq!(params.at(&["JobSpotifyUser", "Default"]).str(), "");
    assert_eq!(params.at(&["JobSpotifyUser", "AllowedPattern"]).str(), "^$|^[A-Za-z0-9_+=@-][A-Za-z0-9_+=.@-]{0,127}$");
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
    // Trunk prints the hash without leading zeros: a build of this very session was named so.
    assert_eq!(cache_control("setlist-ee7bce3a69edf30.js"), "public, max-age=31536000, immutable");
    // The split chunks carry the app's hash, their loader a hash of its own (xtask/src/split.rs).
    assert_eq!(cache_control("setlist-ee7bce3a69edf30-split_tools_panel.wasm"), "public, max-age=31536000, immutable");
    assert_eq!(cache_control("c3f2a9c0d1e4.js"), "public, max-age=31536000, immutable");
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

// ---------------------------------------------------------------------------------------------------------------
// config.json's stored accounts come from the stack's allow-list

/// SHA-256 of the ids, computed outside xtask (`printf %s ID | sha256sum`), so the tests do not trust its hashing.
const ALICE_HASH: &str = "abf1ecab7f9886ce67689bf2e4d2c5440ce665010056f1b5ff9b08b7a09d9738";
const BRUNO_HASH: &str = "56800f6dd1f865ad2db675713c1eb7ddebde0a91d2e732de106ca75882c283ce";
/// config.example.json's one entry, as docs/deploy.md says: the hash of `your-spotify-user-id`.
const EXAMPLE_ID: &str = "your-spotify-user-id";
const EXAMPLE_HASH: &str = "5a29bcefd624b0f533069c0930a47a1ba356ecd11b59050d4dafc4e848dd8476";

/// The allow-list parameter is the sink's `SINK_ALLOW` as is, and the stack echoes it as deployed in the output
/// `cargo xtask dist --stack` reads ([`ALLOW_LIST_OUTPUT`]), present exactly when the list is not empty (an output
/// cannot be empty). CloudFormation cannot hash, so the hashes are made by dist from that very value.
fn check_allow_list_wiring(t: &Json) -> Result<(), String> {
    let by_ref = |name: &str| Json::Obj(vec![("Ref".into(), Json::Str(name.into()))]);
    let param = t.at(&["Parameters"]).get(ALLOW_LIST_PARAMETER).ok_or(format!("no {ALLOW_LIST_PARAMETER} parameter"))?;
    if param.get("Type") != Some(&Json::Str("String".into())) {
        return Err(format!("{ALLOW_LIST_PARAMETER} must be a String (the comma list): {param:?}"));
    }
    let (_, function) = of_type(t, "AWS::Lambda::Function").into_iter().find(|(n, _)| *n == "SinkFunction").ok_or("no SinkFunction")?;
    let allow = function.at(&["Properties", "Environment", "Variables"]).get("SINK_ALLOW").ok_or("no SINK_ALLOW")?;
    if *allow != by_ref(ALLOW_LIST_PARAMETER) {
        return Err(format!("SINK_ALLOW must be exactly Ref {ALLOW_LIST_PARAMETER}, got {allow:?}"));
    }
    let output = t.at(&["Outputs"]).get(ALLOW_LIST_OUTPUT).ok_or(format!("no {ALLOW_LIST_OUTPUT} output"))?;
    if output.get("Value") != Some(&by_ref(ALLOW_LIST_PARAMETER)) {
        return Err(format!("output {ALLOW_LIST_OUTPUT} must be exactly Ref {ALLOW_LIST_PARAMETER}: {output:?}"));
    }
    let cond = output.get("Condition").ok_or(format!("output {ALLOW_LIST_OUTPUT} needs a condition: an empty output fails"))?;
    let definition = t.at(&["Conditions"]).get(cond.str()).ok_or(format!("no condition {}", cond.str()))?;
    let not_empty = parse(&format!(r#"{{"Fn::Not": [{{"Fn::Equals": [{{"Ref": "{ALLOW_LIST_PARAMETER}"}}, ""]}}]}}"#));
    if *definition != not_empty {
        return Err(format!("condition {} must be {ALLOW_LIST_PARAMETER} != \"\", got {definition:?}", cond.str()));
    }
    Ok(())
}

/// `stored_accounts` of a rendered config.json, and the rest of it.
fn split_config(text: &str) -> (Vec<String>, serde_json::Value) {
    let mut v: serde_json::Value = serde_json::from_str(text).expect("config.json is JSON");
    let stored = v.as_object_mut().expect("an object").remove("stored_accounts").expect("stored_accounts");
    let stored = stored.as_array().expect("a list").iter().map(|h| h.as_str().expect("a string").to_owned()).collect();
    (stored, v)
}

fn example_config() -> String {
    std::fs::read_to_string(root().join("config.example.json")).unwrap()
}

#[test]
fn the_allow_list_parameter_feeds_the_sink_and_the_output_dist_reads() {
    check_allow_list_wiring(&template()).unwrap();
    let mutants = [
        // The sink told another list, or the parameter plus someone.
        ("\"SINK_ALLOW\": { \"Ref\": \"AllowedSpotifyUsers\" }", "\"SINK_ALLOW\": { \"Ref\": \"JobSpotifyUser\" }"),
        ("\"SINK_ALLOW\": { \"Ref\": \"AllowedSpotifyUsers\" }", "\"SINK_ALLOW\": { \"Fn::Sub\": \"${AllowedSpotifyUsers},eve\" }"),
        // The output echoing something else, gone, or unconditional, or on another condition.
        ("\"Value\": { \"Ref\": \"AllowedSpotifyUsers\" }", "\"Value\": { \"Ref\": \"JobSpotifyUser\" }"),
        ("\"StoredSpotifyUsers\": {", "\"AllowList\": {"),
        ("\"Condition\": \"StoresAccounts\",", ""),
        ("\"Condition\": \"StoresAccounts\",", "\"Condition\": \"HasJobUser\","),
        ("{ \"Ref\": \"AllowedSpotifyUsers\" }, \"\"", "{ \"Ref\": \"AllowedSpotifyUsers\" }, \"none\""),
    ];
    for (from, to) in mutants {
        assert!(check_allow_list_wiring(&mutant(from, to)).is_err(), "not caught: {from} -> {to}");
    }
    // The docs tell the operator to build config.json from that output.
    let docs = std::fs::read_to_string(root().join("docs/deploy.md")).unwrap();
    assert!(docs.contains("cargo xtask dist --site-only --stack") && docs.contains(ALLOW_LIST_OUTPUT), "docs/deploy.md must name the way");
}

#[test]
fn dist_renders_the_allow_list_as_hashes_and_keeps_the_rest() {
    let example = example_config();
    let (_, rest_of_example) = split_config(&example);
    // As the operator passes AllowedSpotifyUsers: spaces and empty entries are skipped like the sink skips them.
    for list in ["alice.setlist,bruno.setlist", " alice.setlist , bruno.setlist,", "alice.setlist,,bruno.setlist,alice.setlist"] {
        let text = render_config(&example, list).unwrap();
        let (stored, rest) = split_config(&text);
        assert_eq!(stored, [ALICE_HASH, BRUNO_HASH], "{list:?}");
        assert_eq!(rest, rest_of_example, "every other field stays as config.example.json has it");
        assert!(!text.contains("alice") && !text.contains("bruno"), "no id in clear: {text}");
    }
    assert_eq!(split_config(&render_config(&example, "bruno.setlist").unwrap()).0, [BRUNO_HASH]);
    // Case matters: Spotify's ids are compared exactly.
    assert_ne!(split_config(&render_config(&example, "Alice.setlist").unwrap()).0, [ALICE_HASH]);
    // The example's own entry is the documented one.
    assert_eq!(split_config(&example).0, [EXAMPLE_HASH]);
    assert_eq!(split_config(&render_config(&example, EXAMPLE_ID).unwrap()).0, [EXAMPLE_HASH]);
    // A template without the field is refused rather than published without it.
    assert!(render_config("{\"client_id\": \"x\"}", "alice.setlist").is_err());
    // The same hash as the local runs' (tasks::write_config) and core's.
    assert_eq!(crate::tasks::stored_account_hash("alice.setlist"), ALICE_HASH);
}

/// `^$|^[FIRST][REST]{0,N}$`, the template's JobSpotifyUser pattern, as (first chars, rest chars, max length).
fn id_pattern(pattern: &str) -> (Vec<char>, Vec<char>, usize) {
    let body = pattern.strip_prefix("^$|^").and_then(|p| p.strip_suffix('$')).expect("^$|^...$");
    let class = |s: &str| -> (Vec<char>, usize) {
        let end = s.find(']').unwrap();
        let spec: Vec<char> = s[1..end].chars().collect();
        let mut out = Vec::new();
        let mut i = 0;
        while i < spec.len() {
            if i + 2 < spec.len() && spec[i + 1] == '-' {
                out.extend(spec[i]..=spec[i + 2]);
                i += 3;
            } else {
                out.push(spec[i]);
                i += 1;
            }
        }
        (out, end + 1)
    };
    let (first, used) = class(body);
    let (rest, used_rest) = class(&body[used..]);
    let max: usize = body[used + used_rest..].strip_prefix("{0,").and_then(|m| m.strip_suffix('}')).unwrap().parse().unwrap();
    (first, rest, max + 1)
}

#[test]
fn dist_refuses_the_ids_the_sink_refuses() {
    let example = example_config();
    for bad in ["", " , ,", ".alice", "alice/bob", "alice bob", "élan", "alice,bad id", "alice;bruno", &"a".repeat(129)] {
        assert!(render_config(&example, bad).is_err(), "accepted {bad:?}");
    }
    for good in ["a", "alice.setlist", "1234567890", "x_+=.@-", "-dash", &"a".repeat(128)] {
        assert!(render_config(&example, good).is_ok(), "refused {good:?}");
    }
    // Character by character, the rule is the template's JobSpotifyUser pattern (the sink's check_user_id).
    let t = template();
    let (first, rest, max) = id_pattern(t.at(&["Parameters", "JobSpotifyUser", "AllowedPattern"]).str());
    assert_eq!(max, 128);
    for c in (0u32..0x250).filter_map(char::from_u32) {
        let alone = c.to_string();
        assert_eq!(check_user_id(&alone).is_ok(), first.contains(&c) && rest.contains(&c), "{c:?} as an id");
        assert_eq!(check_user_id(&format!("a{c}")).is_ok(), rest.contains(&c), "{c:?} after the first character");
    }
}

#[test]
fn a_site_build_needs_the_allow_list_and_takes_it_once() {
    let given = |list: &str| Some(AllowList::Given(list.into()));
    assert!(parse_options(&[]).is_err(), "no silent default for stored_accounts");
    assert!(parse_options(&["--site-only"]).is_err());
    assert_eq!(parse_options(&["--stored-accounts", "alice,bruno"]).unwrap(), Options { site: true, lambda: true, allow_list: given("alice,bruno"), config: None });
    assert_eq!(parse_options(&["--site-only", "--stored-accounts=alice"]).unwrap(), Options { site: true, lambda: false, allow_list: given("alice"), config: None });
    assert_eq!(parse_options(&["--stack", "setlist"]).unwrap().allow_list, Some(AllowList::Stack("setlist".into())));
    assert_eq!(parse_options(&["--lambda-only"]).unwrap(), Options { site: false, lambda: true, allow_list: None, config: None });
    assert!(parse_options(&["--lambda-only", "--stack", "setlist"]).is_err());
    assert!(parse_options(&["--lambda-only", "--config", "mine.json"]).is_err());
    let mine = parse_options(&["--stack", "setlist", "--config", "mine.json"]).unwrap();
    assert_eq!(mine.config.as_deref(), Some(Path::new("mine.json")));
    assert!(parse_options(&["--stack", "a", "--stored-accounts", "alice"]).is_err());
    assert!(parse_options(&["--stored-accounts"]).is_err());
    assert!(parse_options(&["--site-only", "--lambda-only", "--stack", "s"]).is_err());
}

// ---------------------------------------------------------------------------------------------------------------
// The scheduled job (issue 12): its function, schedule, scheduler role and the job role's read of the list

/// The resources that make up the scheduled job; a site-only deploy (JobSpotifyUser empty) has none of them.
const JOB_RESOURCES: &[&str] = &["JobFunction", "JobLogGroup", "JobInvokeConfig", "JobSchedulerRole", "JobSchedule"];

fn resource<'a>(t: &'a Json, name: &str) -> Result<&'a Json, String> {
    t.at(&["Resources"]).get(name).ok_or(format!("no resource {name}"))
}

fn by_ref(name: &str) -> Json {
    Json::Obj(vec![("Ref".into(), Json::Str(name.into()))])
}

fn get_att(name: &str, attribute: &str) -> Json {
    Json::Obj(vec![("Fn::GetAtt".into(), Json::Arr(vec![Json::Str(name.into()), Json::Str(attribute.into())]))])
}

/// `name` is a condition that holds exactly when JobSpotifyUser is not empty.
fn is_job_user_condition(t: &Json, name: &Json) -> Result<(), String> {
    let Json::Str(name) = name else { return Err(format!("a condition name, got {name:?}")) };
    let definition = t.at(&["Conditions"]).get(name).ok_or(format!("no condition {name}"))?;
    if *definition != parse(r#"{"Fn::Not": [{"Fn::Equals": [{"Ref": "JobSpotifyUser"}, ""]}]}"#) {
        return Err(format!("condition {name} must be JobSpotifyUser != \"\", got {definition:?}"));
    }
    Ok(())
}

/// Every job resource, every schedule and every function but the sink's exist only under the JobSpotifyUser
/// condition; so do the outputs naming them.
fn check_job_resources_are_conditional(t: &Json) -> Result<(), String> {
    for name in JOB_RESOURCES {
        let r = resource(t, name)?;
        is_job_user_condition(t, r.get("Condition").ok_or(format!("{name} has no Condition"))?).map_err(|e| format!("{name}: {e}"))?;
    }
    for (name, r) in resources(t) {
        let ty = r.at(&["Type"]).str();
        let job_like = ty == "AWS::Scheduler::Schedule" || (ty == "AWS::Lambda::Function" && name != "SinkFunction");
        if job_like && !JOB_RESOURCES.contains(&name) {
            return Err(format!("{name} ({ty}) is not one of the job's resources {JOB_RESOURCES:?}"));
        }
    }
    for (name, output) in t.at(&["Outputs"]).members() {
        let mut objects = Vec::new();
        output.at(&["Value"]).walk(&mut objects);
        let names_job = objects.iter().any(|o| {
            let referenced = match (o.get("Ref"), o.get("Fn::GetAtt")) {
                (Some(Json::Str(r)), _) => Some(r.as_str()),
                (_, Some(Json::Arr(a))) => a.first().map(Json::str),
                _ => None,
            };
            referenced.is_some_and(|r| JOB_RESOURCES.contains(&r))
        });
        if names_job {
            is_job_user_condition(t, output.get("Condition").ok_or(format!("output {name} names a job resource unconditionally"))?)?;
        }
    }
    Ok(())
}

/// The schedule is DISABLED unless the operator says otherwise, fires once at its time, retries once, targets the
/// job function through the scheduler role, and sends the event the job reads.
fn check_job_schedule(t: &Json) -> Result<(), String> {
    let param = t.at(&["Parameters"]).get("JobScheduleState").ok_or("no JobScheduleState parameter")?;
    if param.get("Default") != Some(&Json::Str("DISABLED".into())) {
        return Err(format!("JobScheduleState must default to DISABLED: {param:?}"));
    }
    if param.get("AllowedValues") != Some(&parse(r#"["DISABLED", "ENABLED"]"#)) {
        return Err(format!("JobScheduleState must allow exactly DISABLED and ENABLED: {param:?}"));
    }
    let schedules = of_type(t, "AWS::Scheduler::Schedule");
    let [(_, schedule)] = schedules[..] else { return Err(format!("expected one schedule, found {}", schedules.len())) };
    let props = schedule.at(&["Properties"]);
    if props.get("State") != Some(&by_ref("JobScheduleState")) {
        return Err(format!("the schedule's State must be Ref JobScheduleState, got {:?}", props.get("State")));
    }
    if props.get("FlexibleTimeWindow") != Some(&parse(r#"{"Mode": "OFF"}"#)) {
        return Err("FlexibleTimeWindow must be {Mode: OFF}".into());
    }
    let target = props.get("Target").ok_or("no Target")?;
    if target.get("Arn") != Some(&get_att("JobFunction", "Arn")) || target.get("RoleArn") != Some(&get_att("JobSchedulerRole", "Arn")) {
        return Err(format!("the target must be JobFunction through JobSchedulerRole: {target:?}"));
    }
    if target.get("RetryPolicy").and_then(|r| r.get("MaximumRetryAttempts")) != Some(&Json::Num(1.0)) {
        return Err("RetryPolicy.MaximumRetryAttempts must be 1".into());
    }
    // The input, with sample parameter values, is the job's event (crates/job/src/event.rs).
    let input = sub_text(target.get("Input").ok_or("no Input")?)?;
    let filled = input
        .replace("${JobSpotifyUser}", "alice.setlist")
        .replace("${JobPlaylist}", "https://open.spotify.com/playlist/ZrCeNEzhBeYvSdNCpgG36s")
        .replace("${JobListBucket}", "charts")
        .replace("${JobListKey}", "weekly/latest.txt");
    let event: serde_json::Value = serde_json::from_str(&filled).map_err(|e| format!("the Input is not JSON: {e}: {filled}"))?;
    let expected = serde_json::json!({
        "user": "alice.setlist",
        "playlist": "https://open.spotify.com/playlist/ZrCeNEzhBeYvSdNCpgG36s",
        "tracks_s3": {"bucket": "charts", "key": "weekly/latest.txt"},
    });
    if event != expected {
        return Err(format!("the Input is {event}, expected {expected}"));
    }
    // No parameter substituted into it can break out of its JSON string.
    for p in ["JobPlaylist", "JobListKey"] {
        let pattern = t.at(&["Parameters", p, "AllowedPattern"]).str();
        if !pattern.starts_with("^[^\"\\") {
            return Err(format!("{p}'s AllowedPattern must refuse \" and \\ (it is pasted into JSON): {pattern}"));
        }
    }
    Ok(())
}

/// The scheduler role is assumed only by EventBridge Scheduler and may only `lambda:InvokeFunction` the job
/// function; no other role may invoke anything.
fn check_scheduler_role(t: &Json) -> Result<(), String> {
    let role = resource(t, "JobSchedulerRole")?;
    let assume = role.at(&["Properties", "AssumeRolePolicyDocument", "Statement"]).items();
    let principals: Vec<&Json> = assume.iter().map(|s| s.at(&["Principal"])).collect();
    if principals != [&parse(r#"{"Service": "scheduler.amazonaws.com"}"#)] {
        return Err(format!("JobSchedulerRole must be assumed by scheduler.amazonaws.com only: {principals:?}"));
    }
    let mut invokes = 0;
    for (owner, s) in statements(t) {
        if s.get("Principal").is_some() && actions(s) == ["sts:AssumeRole"] {
            continue;
        }
        if s.get("NotAction").is_some() || s.get("NotResource").is_some() {
            return Err(format!("{owner}: NotAction/NotResource"));
        }
        let acts = actions(s);
        let lambda = acts.iter().any(|a| a == "*" || a.to_ascii_lowercase().starts_with("lambda:"));
        if owner == "JobSchedulerRole" {
            if acts != ["lambda:InvokeFunction"] {
                return Err(format!("JobSchedulerRole may only lambda:InvokeFunction, has {acts:?}"));
            }
            let res = s.get("Resource").ok_or("JobSchedulerRole: no Resource")?.items();
            if res != [&get_att("JobFunction", "Arn")] {
                return Err(format!("JobSchedulerRole may invoke only JobFunction, names {res:?}"));
            }
            if s.get("Effect") != Some(&Json::Str("Allow".into())) {
                return Err("JobSchedulerRole's statement must be an Allow".into());
            }
            invokes += 1;
        } else if lambda {
            return Err(format!("{owner}: only the scheduler role may call Lambda ({acts:?})"));
        }
    }
    if invokes != 1 {
        return Err(format!("expected one JobSchedulerRole statement, found {invokes}"));
    }
    Ok(())
}

/// The job role's S3 access is `s3:GetObject` on exactly the list's object, in a policy that exists only when
/// JobSpotifyUser, JobListBucket and JobListKey are all set; no other statement names S3.
fn check_job_list_access(t: &Json) -> Result<(), String> {
    let object = "arn:${AWS::Partition}:s3:::${JobListBucket}/${JobListKey}";
    let mut found = 0;
    for (owner, s) in statements(t) {
        let acts = actions(s);
        if !acts.iter().any(|a| a == "*" || a.to_ascii_lowercase().starts_with("s3:")) {
            continue;
        }
        if owner == "SiteBucketPolicy" {
            continue; // The bucket's own policy: CloudFront's read and the TLS-only deny (checked above).
        }
        if owner != "JobRole" {
            return Err(format!("{owner}: only the job role may name S3 ({acts:?})"));
        }
        if acts != ["s3:GetObject"] {
            return Err(format!("JobRole's S3 actions must be exactly s3:GetObject, got {acts:?}"));
        }
        let res = s.get("Resource").ok_or("JobRole: an S3 statement without Resource")?.items();
        let texts: Vec<&str> = res.iter().map(|r| sub_text(r)).collect::<Result<_, _>>()?;
        if texts != [object] {
            return Err(format!("JobRole's S3 resources must be exactly {object}, got {texts:?}"));
        }
        found += 1;
    }
    if found != 1 {
        return Err(format!("expected one S3 statement for JobRole, found {found}"));
    }
    // That statement's policy is Fn::If [cond, policy, AWS::NoValue] with cond = user, bucket and key all set.
    let role = resource(t, "JobRole")?;
    let policy = role
        .at(&["Properties", "Policies"])
        .items()
        .into_iter()
        .find(|p| format!("{p:?}").contains("s3:GetObject"))
        .ok_or("no JobRole policy with s3:GetObject")?;
    let branches = policy.get("Fn::If").ok_or("the job's S3 policy is not under Fn::If")?.items();
    let [cond, _, otherwise] = branches[..] else { return Err("Fn::If takes 3 items".into()) };
    if *otherwise != by_ref("AWS::NoValue") {
        return Err("the job's S3 policy must be AWS::NoValue otherwise".into());
    }
    let definition = t.at(&["Conditions"]).get(cond.str()).ok_or(format!("no condition {}", cond.str()))?;
    let all_set = parse(
        r#"{"Fn::And": [{"Condition": "HasJobUser"}, {"Fn::Not": [{"Fn::Equals": [{"Ref": "JobListBucket"}, ""]}]}, {"Fn::Not": [{"Fn::Equals": [{"Ref": "JobListKey"}, ""]}]}]}"#,
    );
    if *definition != all_set {
        return Err(format!("condition {} must be JobSpotifyUser, JobListBucket and JobListKey all set: {definition:?}", cond.str()));
    }
    is_job_user_condition(t, &Json::Str("HasJobUser".into()))?;
    // A key with a wildcard would widen the grant.
    let key_pattern = t.at(&["Parameters", "JobListKey", "AllowedPattern"]).str();
    if !(key_pattern.contains('*') && key_pattern.contains('?') && key_pattern.starts_with("^[^")) {
        return Err(format!("JobListKey's AllowedPattern must refuse * and ?: {key_pattern}"));
    }
    Ok(())
}

/// The job function: the `setlist-job-lambda` package on provided.al2023, runs as JobRole, logs to its own group,
/// and is told the very prefix the sink stores under and Spotify's production services.
fn check_job_function(t: &Json) -> Result<(), String> {
    let function = resource(t, "JobFunction")?;
    let props = function.at(&["Properties"]);
    let expect = |key: &str, value: Json| -> Result<(), String> {
        if props.get(key) != Some(&value) {
            return Err(format!("JobFunction's {key} must be {value:?}, got {:?}", props.get(key)));
        }
        Ok(())
    };
    expect("Runtime", Json::Str("provided.al2023".into()))?;
    expect("Handler", Json::Str("bootstrap".into()))?;
    expect("Timeout", Json::Num(300.0))?;
    expect("MemorySize", Json::Num(256.0))?;
    expect("Role", get_att("JobRole", "Arn"))?;
    if props.get("VpcConfig").is_some() {
        return Err("JobFunction must not be in a VPC (it calls Spotify and AWS APIs directly)".into());
    }
    if props.at(&["LoggingConfig"]).get("LogGroup") != Some(&by_ref("JobLogGroup")) {
        return Err("JobFunction must log to JobLogGroup".into());
    }
    if props.at(&["Code"]).get("S3Key") != Some(&by_ref("JobCodeKey")) {
        return Err("JobFunction's code must be the JobCodeKey package".into());
    }
    let env = props.at(&["Environment", "Variables"]);
    let sink_env = resource(t, "SinkFunction")?.at(&["Properties", "Environment", "Variables"]);
    let job_prefix = sub_text(env.get("JOB_SECRET_PREFIX").ok_or("no JOB_SECRET_PREFIX")?)?;
    let sink_prefix = sub_text(sink_env.get("SINK_SECRET_PREFIX").ok_or("no SINK_SECRET_PREFIX")?)?;
    if job_prefix != sink_prefix || job_prefix != TOKEN_PREFIX {
        return Err(format!("JOB_SECRET_PREFIX {job_prefix:?} must equal SINK_SECRET_PREFIX {sink_prefix:?} ({TOKEN_PREFIX})"));
    }
    if env.get("JOB_CLIENT_ID") != Some(&by_ref("SpotifyClientId")) {
        return Err("JOB_CLIENT_ID must be Ref SpotifyClientId".into());
    }
    for (var, value) in [("JOB_ACCOUNTS_BASE", SPOTIFY_ACCOUNTS), ("JOB_API_BASE", SPOTIFY_API)] {
        if let Some(v) = env.get(var) {
            if *v != Json::Str(value.into()) {
                return Err(format!("{var} must be {value}, got {v:?}"));
            }
        }
    }
    Ok(())
}

#[test]
fn the_job_exists_only_for_a_job_user() {
    check_job_resources_are_conditional(&template()).unwrap();
    let mutants = [
        ("\"Type\": \"AWS::Scheduler::Schedule\",\n      \"Condition\": \"HasJobUser\",", "\"Type\": \"AWS::Scheduler::Schedule\","),
        ("\"Type\": \"AWS::Lambda::Function\",\n      \"Condition\": \"HasJobUser\",", "\"Type\": \"AWS::Lambda::Function\",\n      \"Condition\": \"HasDomain\","),
        ("\"JobSchedulerRole\": {\n      \"Type\": \"AWS::IAM::Role\",\n      \"Condition\": \"HasJobUser\",", "\"JobSchedulerRole\": {\n      \"Type\": \"AWS::IAM::Role\","),
        ("\"Type\": \"AWS::Logs::LogGroup\",\n      \"Condition\": \"HasJobUser\",", "\"Type\": \"AWS::Logs::LogGroup\","),
        ("\"JobFunction\": {", "\"PublishFunction\": {"),
        ("\"JobFunctionName\": { \"Condition\": \"HasJobUser\", ", "\"JobFunctionName\": { "),
        ("{ \"Ref\": \"JobSpotifyUser\" }, \"\"", "{ \"Ref\": \"JobSpotifyUser\" }, \"x\""),
    ];
    for (from, to) in mutants {
        assert!(check_job_resources_are_conditional(&mutant(from, to)).is_err(), "not caught: {from} -> {to}");
    }
}

#[test]
fn the_schedule_is_disabled_by_default_and_sends_the_jobs_event() {
    check_job_schedule(&template()).unwrap();
    let mutants = [
        ("\"Default\": \"DISABLED\",", "\"Default\": \"ENABLED\","),
        ("\"State\": { \"Ref\": \"JobScheduleState\" }", "\"State\": \"ENABLED\""),
        ("\"FlexibleTimeWindow\": { \"Mode\": \"OFF\" }", "\"FlexibleTimeWindow\": { \"Mode\": \"FLEXIBLE\", \"MaximumWindowInMinutes\": 15 }"),
        ("\"MaximumRetryAttempts\": 1 }", "\"MaximumRetryAttempts\": 185 }"),
        ("\"RoleArn\": { \"Fn::GetAtt\": [\"JobSchedulerRole\", \"Arn\"] }", "\"RoleArn\": { \"Fn::GetAtt\": [\"JobRole\", \"Arn\"] }"),
        ("\\\"playlist\\\": \\\"${JobPlaylist}\\\"", "\\\"playlist_id\\\": \\\"${JobPlaylist}\\\""),
        ("\\\"key\\\": \\\"${JobListKey}\\\"", "\\\"key\\\": \\\"${JobListBucket}\\\""),
        ("\"^[^\\\"\\\\\\\\]*$\"", "\".*\""),
    ];
    for (from, to) in mutants {
        assert!(check_job_schedule(&mutant(from, to)).is_err(), "not caught: {from} -> {to}");
    }
}

#[test]
fn the_scheduler_role_may_only_invoke_the_job() {
    check_scheduler_role(&template()).unwrap();
    let mutants = [
        ("\"Action\": \"lambda:InvokeFunction\"", "\"Action\": \"lambda:*\""),
        ("\"Action\": \"lambda:InvokeFunction\"", "\"Action\": [\"lambda:InvokeFunction\", \"lambda:UpdateFunctionCode\"]"),
        ("\"Action\": \"lambda:InvokeFunction\",\n                  \"Resource\": { \"Fn::GetAtt\": [\"JobFunction\", \"Arn\"] }", "\"Action\": \"lambda:InvokeFunction\",\n                  \"Resource\": \"*\""),
        ("\"Action\": \"lambda:InvokeFunction\",\n                  \"Resource\": { \"Fn::GetAtt\": [\"JobFunction\", \"Arn\"] }", "\"Action\": \"lambda:InvokeFunction\",\n                  \"Resource\": { \"Fn::GetAtt\": [\"SinkFunction\", \"Arn\"] }"),
        ("\"Principal\": { \"Service\": \"scheduler.amazonaws.com\" }", "\"Principal\": { \"Service\": \"lambda.amazonaws.com\" }"),
        // Another role given a Lambda action.
        ("\"Action\": [\"logs:CreateLogStream\", \"logs:PutLogEvents\"],\n                      \"Resource\": { \"Fn::Sub\": \"${JobLogGroup.Arn}\" }", "\"Action\": [\"logs:CreateLogStream\", \"lambda:InvokeFunction\"],\n                      \"Resource\": { \"Fn::Sub\": \"${JobLogGroup.Arn}\" }"),
    ];
    for (from, to) in mutants {
        assert!(check_scheduler_role(&mutant(from, to)).is_err(), "not caught: {from} -> {to}");
    }
}

#[test]
fn the_job_role_reads_exactly_the_list_object() {
    check_job_list_access(&template()).unwrap();
    let object = "arn:${AWS::Partition}:s3:::${JobListBucket}/${JobListKey}";
    let mutants = [
        (object, "arn:${AWS::Partition}:s3:::${JobListBucket}/*".to_owned()),
        (object, "arn:${AWS::Partition}:s3:::${JobListBucket}".to_owned()),
        (object, "arn:${AWS::Partition}:s3:::*".to_owned()),
        ("\"Action\": \"s3:GetObject\",\n                      \"Resource\"", "\"Action\": \"s3:Get*\",\n                      \"Resource\"".to_owned()),
        ("\"Action\": \"s3:GetObject\",\n                      \"Resource\"", "\"Action\": [\"s3:GetObject\", \"s3:PutObject\"],\n                      \"Resource\"".to_owned()),
        ("\"Fn::If\": [\n              \"HasJobList\",", "\"Fn::If\": [\n              \"HasJobUser\",".to_owned()),
        ("{ \"Ref\": \"JobListKey\" }, \"\"", "{ \"Ref\": \"JobListKey\" }, \"-\"".to_owned()),
        ("\"^[^\\\"\\\\\\\\*?]*$\"", "\"^[^\\\"\\\\\\\\]*$\"".to_owned()),
    ];
    for (from, to) in &mutants {
        assert!(check_job_list_access(&mutant(from, to)).is_err(), "not caught: {from} -> {to}");
    }
}

#[test]
fn the_job_function_is_told_the_sinks_prefix() {
    check_job_function(&template()).unwrap();
    let mutants = [
        ("\"JOB_SECRET_PREFIX\": { \"Fn::Sub\": \"setlist/${AWS::StackName}/tokens/\" }", "\"JOB_SECRET_PREFIX\": { \"Fn::Sub\": \"setlist/${AWS::StackName}/\" }"),
        ("\"JOB_SECRET_PREFIX\"", "\"JOB_SECRET_ID\""),
        ("\"Role\": { \"Fn::GetAtt\": [\"JobRole\", \"Arn\"] }", "\"Role\": { \"Fn::GetAtt\": [\"SinkRole\", \"Arn\"] }"),
        ("\"Timeout\": 300,", "\"Timeout\": 900,"),
        ("\"JOB_API_BASE\": \"https://api.spotify.com/v1\"", "\"JOB_API_BASE\": \"http://127.0.0.1:8090/v1\""),
        ("\"JOB_CLIENT_ID\": { \"Ref\": \"SpotifyClientId\" }", "\"JOB_CLIENT_ID\": \"setlist-dev\""),
    ];
    for (from, to) in mutants {
        assert!(check_job_function(&mutant(from, to)).is_err(), "not caught: {from} -> {to}");
    }
}

#[test]
fn dist_packages_what_the_template_deploys() {
    let t = template();
    let key_default = |param: &str| t.at(&["Parameters", param, "Default"]).str().to_owned();
    let zips: Vec<&str> = LAMBDAS.iter().map(|l| l.zip).collect();
    assert_eq!(zips, ["sink-lambda.zip", "job-lambda.zip"]);
    for (function, param, lambda) in [("SinkFunction", "SinkCodeKey", &LAMBDAS[0]), ("JobFunction", "JobCodeKey", &LAMBDAS[1])] {
        let code = resource(&t, function).unwrap().at(&["Properties", "Code"]);
        assert_eq!(code.get("S3Key"), Some(&by_ref(param)), "{function}");
        assert!(key_default(param).ends_with(&format!("/{}", lambda.zip)), "{param} defaults to the name dist writes");
        // The binary exists in that package.
        let dir = if lambda.package == "setlist-sink" { "crates/sink" } else { "crates/job" };
        let manifest = std::fs::read_to_string(root().join(dir).join("Cargo.toml")).unwrap();
        assert!(manifest.contains(&format!("name = \"{}\"", lambda.package)), "{dir} is {}", lambda.package);
        assert!(root().join(dir).join("src/bin").join(format!("{}.rs", lambda.bin)).exists(), "{} in {dir}", lambda.bin);
    }
}
