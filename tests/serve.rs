//! `por-prove serve`: its answers equal `por-prove proof`'s, byte for byte, for ids that need
//! percent-encoding; unknown and malformed ids get 404 and 400; user ids never reach its logs.

use por_e2e::{bin, path_str, run, Exchange};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

struct Answer {
    status: u16,
    headers: String,
    body: String,
}

fn get(addr: &str, target: &str) -> Answer {
    let mut s = TcpStream::connect(addr).expect("connect");
    // A service that never answers fails the test rather than hanging it.
    s.set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .unwrap();
    write!(
        s,
        "GET {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").expect("a response");
    let status = head[9..12].parse().expect("a status");
    Answer {
        status,
        headers: head.to_ascii_lowercase(),
        body: body.to_string(),
    }
}

/// Percent-encodes every byte outside the unreserved set, as a client library would.
fn encode(id: &str) -> String {
    id.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[test]
fn the_service_answers_as_proof_does_and_never_logs_ids() {
    let ids = [
        "alice",
        "a/b",
        "what?now",
        "100%",
        "two words",
        "ünï",
        "%41",
    ];
    let mut csv = String::from("user_id,BTC:8\n");
    for (i, id) in ids.iter().enumerate() {
        csv.push_str(&format!("{id},{}.5\n", i + 1));
    }
    let ex = Exchange::build(&csv, &[]);
    let mut child = Command::new(bin("por-prove"))
        .args([
            "serve",
            "--from",
            path_str(&ex.out),
            "--listen",
            "127.0.0.1:0",
        ])
        .args(["--access-log", "--threads", "2"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the service");
    let addr = listening_address(&mut child);

    for id in ids {
        let want = run(
            "por-prove",
            &["proof", "--from", path_str(&ex.out), "--user", id],
        )
        .expect(0)
        .stdout;
        let a = get(&addr, &format!("/proof/{}", encode(id)));
        assert_eq!(a.status, 200, "{id}: {}", a.body);
        assert_eq!(a.body, want, "{id}");
        assert!(
            a.headers.contains("server-timing: proof;dur="),
            "{}",
            a.headers
        );
        assert!(a.headers.contains("cache-control: no-store"));
        // The verifier accepts what the service gave.
        let p = ex.path("served.json");
        std::fs::write(&p, &a.body).unwrap();
        ex.verify(&ex.attestation(), &p, id).expect(0);
    }
    // A slash may also come unencoded: everything after /proof/ is the id.
    assert_eq!(get(&addr, "/proof/a/b").status, 200);
    // Decoded exactly once: %2541 is the id "%41", not "A".
    let a = get(&addr, "/proof/%2541");
    assert!(a.body.contains("\"user_id\":\"%41\""), "{}", a.body);
    // Unknown, empty, malformed escapes, invalid UTF-8, control characters, other routes.
    // An unencoded `?` would cut the id: a query is refused, never served as another id.
    let q = get(&addr, "/proof/alice?x");
    assert_eq!(q.status, 400, "{}", q.body);
    assert!(!q.body.contains("salt"));
    assert_eq!(get(&addr, "/proof/nobody").status, 404);
    assert_eq!(get(&addr, "/proof/Alice").status, 404);
    assert_eq!(get(&addr, "/proof/").status, 400);
    assert_eq!(get(&addr, "/proof/a%zz").status, 400);
    assert_eq!(get(&addr, "/proof/%FF").status, 400);
    assert_eq!(get(&addr, "/proof/a%0Ab").status, 400);
    assert_eq!(
        get(&addr, &format!("/proof/{}", "x".repeat(300))).status,
        400
    );
    assert_eq!(get(&addr, "/proofs").status, 404);
    let h = get(&addr, "/health");
    assert_eq!(h.status, 200);
    let v: serde_json::Value = serde_json::from_str(&h.body).unwrap();
    assert_eq!(v["status"], "ok");
    assert_eq!(v["customers"], ids.len());
    let mut s = TcpStream::connect(&addr).unwrap();
    write!(
        s,
        "POST /proof/alice HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    assert!(raw.starts_with("HTTP/1.1 405"), "{raw}");

    // Stopped by SIGTERM: exit 0 with a summary; no id in anything it logged.
    let pid = child.id().to_string();
    Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(log.contains("GET /proof/{id} 200"), "{log}");
    assert!(log.contains("stopped; served"), "{log}");
    // Every line starts with its UTC time to the millisecond: 2026-12-03T18:21:00.123Z.
    for line in log.lines() {
        let t = line.split(' ').next().unwrap_or("");
        let shape = t.len() == 24
            && t.char_indices().all(|(i, c)| match i {
                4 | 7 => c == '-',
                10 => c == 'T',
                13 | 16 => c == ':',
                19 => c == '.',
                23 => c == 'Z',
                _ => c.is_ascii_digit(),
            });
        assert!(shape, "a log line without its time: {line:?}");
    }
    for id in ids.iter().chain(&["nobody", "Alice"]) {
        assert!(!log.contains(id), "the log holds the id {id:?}:\n{log}");
        assert!(!log.contains(&encode(id)) || encode(id) == *id);
    }
}

/// The address the service prints on its first line of stdout when it is ready.
fn listening_address(child: &mut std::process::Child) -> String {
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    line.trim()
        .strip_prefix("listening on http://")
        .and_then(|r| r.split(' ').next())
        .unwrap_or_else(|| panic!("{line}"))
        .to_string()
}

/// Starts the service on a free port with extra flags; returns it and its address.
fn start(ex: &Exchange, extra: &[&str]) -> (std::process::Child, String) {
    let mut args = vec![
        "serve",
        "--from",
        path_str(&ex.out),
        "--listen",
        "127.0.0.1:0",
    ];
    args.extend_from_slice(extra);
    let mut child = Command::new(bin("por-prove"))
        .args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the service");
    let addr = listening_address(&mut child);
    (child, addr)
}

#[test]
fn idle_connections_are_bounded_and_closed() {
    use std::time::{Duration, Instant};
    let ex = Exchange::build("user_id,BTC:8\nalice,1\n", &[]);
    let (mut child, addr) = start(
        &ex,
        &["--max-connections", "1", "--header-timeout-secs", "1"],
    );
    // A client that connects and sends half a request holds the only connection...
    let mut idle = TcpStream::connect(&addr).unwrap();
    write!(idle, "GET /health HTTP/1.1\r\nHost: x\r\n").unwrap();
    std::thread::sleep(Duration::from_millis(200));
    // ...so the next client waits to be accepted instead of exhausting the service...
    let t = Instant::now();
    let a = get(&addr, "/health");
    assert_eq!(a.status, 200);
    // ...until the header timeout closes the idle one (1 s here).
    assert!(
        t.elapsed() >= Duration::from_millis(500),
        "answered at once: {:?}",
        t.elapsed()
    );
    let mut rest = Vec::new();
    idle.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let _ = idle.read_to_end(&mut rest);
    assert!(
        !String::from_utf8_lossy(&rest).contains("200 OK"),
        "the half-sent request was answered"
    );
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn a_hidden_sums_month_is_served_from_its_stored_tree() {
    let ex = Exchange::build(
        "user_id,BTC:8\nalice,1.5\nbob,0.25\ncarol,3\n",
        &["--hidden-sums", "--height", "8"],
    );
    let (mut child, addr) = start(&ex, &[]);
    let a = get(&addr, "/proof/bob");
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(a.body.contains("por-proof-hidden-v1"));
    let p = ex.path("served-bob.json");
    std::fs::write(&p, &a.body).unwrap();
    ex.verify(&ex.attestation(), &p, "bob").expect(0);
    assert_eq!(get(&addr, "/proof/dave").status, 404);
    let _ = child.kill();
    let _ = child.wait();
}

/// Prometheus metrics on their own address: counts and a latency histogram that follow the
/// requests made, never an id; the proof port does not serve them.
#[test]
fn metrics_on_their_own_address() {
    let ex = Exchange::build("user_id,BTC:8\nalice,1\nbob,2\n", &[]);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let metrics = format!("127.0.0.1:{port}");
    let (mut child, addr) = start(&ex, &["--metrics-listen", &metrics]);
    assert_eq!(get(&addr, "/proof/alice").status, 200);
    assert_eq!(get(&addr, "/proof/bob").status, 200);
    assert_eq!(get(&addr, "/proof/nobody").status, 404);
    assert_eq!(get(&addr, "/proof/a%zz").status, 400);
    assert_eq!(get(&addr, "/metrics").status, 404, "not on the proof port");
    let m = get(&metrics, "/metrics");
    let other = get(&metrics, "/proof/alice").status;
    child.kill().unwrap();
    let _ = child.wait();
    assert_eq!(m.status, 200, "{}", m.body);
    assert!(m
        .headers
        .contains("content-type: text/plain; version=0.0.4"));
    let value = |name: &str| -> f64 {
        m.body
            .lines()
            .find_map(|l| l.strip_prefix(name).and_then(|v| v.strip_prefix(' ')))
            .unwrap_or_else(|| panic!("{name} missing:\n{}", m.body))
            .parse()
            .unwrap()
    };
    assert_eq!(value("por_serve_proofs_total"), 2.0);
    assert_eq!(value("por_serve_not_found_total"), 1.0);
    assert_eq!(value("por_serve_bad_requests_total"), 1.0);
    assert_eq!(value("por_serve_errors_total"), 0.0);
    // Five requests on the proof port, each in the histogram once.
    assert_eq!(value("por_serve_request_duration_seconds_count"), 5.0);
    assert_eq!(
        value("por_serve_request_duration_seconds_bucket{le=\"+Inf\"}"),
        5.0
    );
    assert!(value("por_serve_request_duration_seconds_sum") > 0.0);
    // Buckets are cumulative: never decreasing.
    let buckets: Vec<f64> = m
        .body
        .lines()
        .filter(|l| l.starts_with("por_serve_request_duration_seconds_bucket"))
        .map(|l| l.rsplit(' ').next().unwrap().parse().unwrap())
        .collect();
    assert!(buckets.windows(2).all(|w| w[0] <= w[1]), "{buckets:?}");
    for id in ["alice", "bob", "nobody"] {
        assert!(!m.body.contains(id), "{id} in the metrics");
    }
    assert_eq!(other, 404, "no proofs on the metrics port");
}
