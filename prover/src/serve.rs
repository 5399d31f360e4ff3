//! The proof service: `por-prove serve` answers `GET /proof/{user_id}` from a stored tree.
//!
//! It sits behind the exchange's own backend, which authenticates its customers and forwards
//! their request; this service does no authentication and should listen on a private address.
//!
//! - `GET /proof/{id}`: 200 with the proof JSON; 404 if the id is in no leaf; 400 if the id is
//!   not valid. The id is everything in the request path after `/proof/`, percent-decoded
//!   exactly once (`%2F` gives `/`, `%25` gives `%`, and `%2541` gives `%41`); a `%` not
//!   followed by two hex digits, or a decoded id that is not UTF-8, is a bad request. A request
//!   with a query is a bad request: an id's `?` must be sent as `%3F`. An id's `#` must be sent
//!   as `%23`: HTTP drops a fragment before the service sees it, so a backend that sends ids
//!   unencoded could be served the proof of the id cut at `#`; a backend should check that
//!   the proof's `user_id` is the id it asked for.
//! - `GET /health`: 200 with the exchange, period, number of customers and root.
//! - Anything else: 404, or 405 for another method.
//! - With `--metrics-listen ADDR`, on that address only: `GET /metrics`, the counters and a
//!   latency histogram in the Prometheus text format (no ids, no balances).
//!
//! Every answer carries `Cache-Control: no-store` (a proof is personal data) and a proof's
//! answer `Server-Timing: proof;dur=MS`, the time spent making it. At most `max_concurrent`
//! proofs are made at once (on blocking threads, off the connections' runtime); further
//! requests wait for a slot. At most `max_connections` connections are open; a client gets
//! `header_timeout` to send a request's headers.
//!
//! User ids are personal data: they are never written to the logs. The access log
//! (`--access-log`) writes the method, the route (`/proof/{id}` as such), the status and the
//! time taken. Every log line starts with its UTC time to the millisecond ([`stamp`]), so a
//! log collected without its own timestamps (a plain file, `docker logs`) can still be read
//! against an incident.

use crate::stored::StoredTree;

/// The current UTC time as log lines start with it: `2026-12-03T18:21:00.123Z`.
pub fn stamp() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
    let whole = por_verifier::time::format_utc(secs);
    format!(
        "{}.{:03}Z",
        whole.trim_end_matches('Z'),
        now.subsec_millis()
    )
}
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use por_verifier::error::{Error, Result};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// How the service runs.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Proofs made at once at most.
    pub max_concurrent: usize,
    /// Worker threads of the runtime.
    pub threads: usize,
    /// Write one line per request (without the user id) to stderr.
    pub access_log: bool,
    /// Open connections at most; more wait to be accepted (keep it below the process's
    /// file-descriptor limit).
    pub max_connections: usize,
    /// How long a client may take to send a request's headers (an idle or trickling
    /// connection is closed after it).
    pub header_timeout: std::time::Duration,
    /// Where to serve `GET /metrics` (Prometheus text format), apart from the proofs: a
    /// monitoring network need not reach the proof port, nor the backend the metrics.
    pub metrics_listen: Option<SocketAddr>,
}

/// Upper bounds (milliseconds) of the request-latency histogram's buckets; the last is `+Inf`.
pub const LATENCY_BUCKETS_MS: [f64; 8] = [1.0, 2.5, 5.0, 10.0, 25.0, 100.0, 500.0, 2500.0];

/// Counts kept while serving, printed when the service stops.
#[derive(Debug, Default)]
pub struct Counters {
    /// Proofs served.
    pub proofs: AtomicU64,
    /// Requests for ids in no leaf.
    pub not_found: AtomicU64,
    /// Malformed requests.
    pub bad: AtomicU64,
    /// Failures reading the stored tree.
    pub errors: AtomicU64,
    /// Requests answered, on every route.
    pub requests: AtomicU64,
    /// Requests per latency bucket ([`LATENCY_BUCKETS_MS`], then `+Inf`), not cumulative.
    pub latency: [AtomicU64; 9],
    /// Total time answering, microseconds.
    pub latency_micros: AtomicU64,
}

impl Counters {
    fn observe(&self, took: std::time::Duration) {
        let ms = took.as_secs_f64() * 1e3;
        let b = LATENCY_BUCKETS_MS
            .iter()
            .position(|&up| ms <= up)
            .unwrap_or(LATENCY_BUCKETS_MS.len());
        self.latency[b].fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        self.latency_micros.fetch_add(micros, Ordering::Relaxed);
        self.requests.fetch_add(1, Ordering::Relaxed);
    }

    /// The counters in the Prometheus text exposition format (version 0.0.4).
    pub fn prometheus(&self) -> String {
        use std::fmt::Write as _;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let mut out = String::new();
        for (name, help, v) in [
            (
                "por_serve_proofs_total",
                "Proofs served.",
                get(&self.proofs),
            ),
            (
                "por_serve_not_found_total",
                "Requests for ids in no leaf.",
                get(&self.not_found),
            ),
            (
                "por_serve_bad_requests_total",
                "Malformed requests.",
                get(&self.bad),
            ),
            (
                "por_serve_errors_total",
                "Failures reading the stored tree.",
                get(&self.errors),
            ),
        ] {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}"
            );
        }
        let h = "por_serve_request_duration_seconds";
        let _ = writeln!(out, "# HELP {h} Time to answer a request, every route.");
        let _ = writeln!(out, "# TYPE {h} histogram");
        let mut cumulative = 0u64;
        for (i, up) in LATENCY_BUCKETS_MS.iter().enumerate() {
            cumulative += get(&self.latency[i]);
            let _ = writeln!(out, "{h}_bucket{{le=\"{}\"}} {cumulative}", up / 1e3);
        }
        cumulative += get(&self.latency[LATENCY_BUCKETS_MS.len()]);
        let _ = writeln!(out, "{h}_bucket{{le=\"+Inf\"}} {cumulative}");
        let sum = get(&self.latency_micros) as f64 / 1e6;
        let _ = writeln!(out, "{h}_sum {sum}");
        let _ = writeln!(out, "{h}_count {}", get(&self.requests));
        out
    }
}

struct Shared {
    tree: Arc<StoredTree>,
    slots: tokio::sync::Semaphore,
    counters: Counters,
    access_log: bool,
    health: Bytes,
}

/// Decodes `%XX` escapes once; `None` on a `%` without two hex digits or on bytes that are
/// not UTF-8.
pub fn percent_decode(raw: &str) -> Option<String> {
    let b = raw.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = |c: u8| (c as char).to_digit(16);
            let hi = b.get(i + 1).copied().and_then(hex)?;
            let lo = b.get(i + 2).copied().and_then(hex)?;
            out.push((hi * 16 + lo) as u8);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Serves until interrupted (Ctrl-C or SIGTERM). `ready` is called with the bound address
/// once the service accepts connections (port 0 binds a free port).
pub fn serve(
    tree: StoredTree,
    cfg: &ServeConfig,
    ready: impl FnOnce(SocketAddr),
) -> Result<Counters> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cfg.threads.max(1))
        .enable_all()
        .build()
        .map_err(|e| Error::input(format!("cannot start the runtime: {e}")))?;
    let att = tree.attestation();
    let health = serde_json::json!({
        "status": "ok",
        "exchange": att.exchange,
        "period": att.period,
        "customers": tree.customers(),
        "root_hash": att.root_hash.to_hex(),
    })
    .to_string();
    let shared = Arc::new(Shared {
        slots: tokio::sync::Semaphore::new(cfg.max_concurrent.max(1)),
        counters: Counters::default(),
        access_log: cfg.access_log,
        health: Bytes::from(health),
        tree: Arc::new(tree),
    });
    let connections = Arc::new(tokio::sync::Semaphore::new(cfg.max_connections.max(1)));
    let listen = cfg.listen;
    let header_timeout = cfg.header_timeout;
    let metrics_listen = cfg.metrics_listen;
    let inner = Arc::clone(&shared);
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|e| Error::input(format!("--listen {listen}: cannot listen: {e}")))?;
        let addr = listener
            .local_addr()
            .map_err(|e| Error::input(format!("--listen {listen}: {e}")))?;
        if let Some(m) = metrics_listen {
            let metrics = tokio::net::TcpListener::bind(m)
                .await
                .map_err(|e| Error::input(format!("--metrics-listen {m}: cannot listen: {e}")))?;
            let bound = metrics
                .local_addr()
                .map_err(|e| Error::input(format!("--metrics-listen {m}: {e}")))?;
            eprintln!(
                "{} por-prove serve: metrics on http://{bound}/metrics",
                stamp()
            );
            tokio::spawn(serve_metrics(metrics, Arc::clone(&inner)));
        }
        ready(addr);
        let stop = shutdown_signal();
        tokio::pin!(stop);
        loop {
            // A connection slot first: past the limit, clients wait in the kernel's backlog.
            let slot = tokio::select! {
                _ = &mut stop => break,
                slot = Arc::clone(&connections).acquire_owned() => slot,
            };
            let Ok(slot) = slot else { break };
            let accepted = tokio::select! {
                _ = &mut stop => break,
                accepted = listener.accept() => accepted,
            };
            let stream = match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of descriptors or similar: wait rather than spin.
                    eprintln!("{} por-prove serve: cannot accept: {e}", stamp());
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            };
            let _ = stream.set_nodelay(true);
            let shared = Arc::clone(&inner);
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |req| {
                    let shared = Arc::clone(&shared);
                    async move { Ok::<_, std::convert::Infallible>(answer(&shared, req).await) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .timer(hyper_util::rt::TokioTimer::new())
                    .header_read_timeout(header_timeout)
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
                drop(slot);
            });
        }
        Ok::<(), Error>(())
    })?;
    drop(rt);
    let shared = Arc::try_unwrap(shared).map_err(|_| Error::input("service still in use"))?;
    Ok(shared.counters)
}

/// Answers `GET /metrics` on its own listener until the runtime stops; one connection at a
/// time is plenty for a scraper, and a slow one cannot hold the proof port's slots.
async fn serve_metrics(listener: tokio::net::TcpListener, shared: Arc<Shared>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            continue;
        };
        let shared = Arc::clone(&shared);
        let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
            let shared = Arc::clone(&shared);
            async move {
                let resp = if req.uri().path() != "/metrics" {
                    error(StatusCode::NOT_FOUND, "no such route: GET /metrics")
                } else if req.method() != Method::GET {
                    allow_get(error(StatusCode::METHOD_NOT_ALLOWED, "use GET"))
                } else {
                    let mut r = Response::new(Full::new(Bytes::from(shared.counters.prometheus())));
                    r.headers_mut().insert(
                        hyper::header::CONTENT_TYPE,
                        hyper::header::HeaderValue::from_static("text/plain; version=0.0.4"),
                    );
                    r
                };
                Ok::<_, std::convert::Infallible>(resp)
            }
        });
        let _ = hyper::server::conn::http1::Builder::new()
            .timer(hyper_util::rt::TokioTimer::new())
            .header_read_timeout(std::time::Duration::from_secs(10))
            .serve_connection(TokioIo::new(stream), svc)
            .await;
    }
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

fn reply(status: StatusCode, body: Bytes) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(body));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    h.insert(
        hyper::header::CACHE_CONTROL,
        hyper::header::HeaderValue::from_static("no-store"),
    );
    r
}

fn error(status: StatusCode, why: &'static str) -> Response<Full<Bytes>> {
    reply(
        status,
        Bytes::from(format!("{{\"error\":{}}}", serde_json::json!(why))),
    )
}

async fn answer(shared: &Shared, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let start = Instant::now();
    let path = req.uri().path();
    let (route, resp) = if let Some(raw) = path.strip_prefix("/proof/") {
        let r = if req.method() != Method::GET {
            allow_get(error(StatusCode::METHOD_NOT_ALLOWED, "use GET"))
        } else if req.uri().query().is_some() {
            // An id holding `?` sent unencoded would otherwise be cut there, and the customer
            // whose id is the part before it would be served instead.
            shared.counters.bad.fetch_add(1, Ordering::Relaxed);
            error(
                StatusCode::BAD_REQUEST,
                "a query is not allowed: percent-encode the user id (? as %3F, # as %23)",
            )
        } else {
            proof(shared, raw).await
        };
        ("/proof/{id}", r)
    } else if path == "/health" {
        let r = if req.method() == Method::GET {
            reply(StatusCode::OK, shared.health.clone())
        } else {
            allow_get(error(StatusCode::METHOD_NOT_ALLOWED, "use GET"))
        };
        ("/health", r)
    } else {
        ("(other)", error(StatusCode::NOT_FOUND, "no such route"))
    };
    shared.counters.observe(start.elapsed());
    if shared.access_log {
        // The route, never the path: the path holds the user id.
        eprintln!(
            "{} {} {} {} {:.3} ms",
            stamp(),
            req.method(),
            route,
            resp.status().as_u16(),
            start.elapsed().as_secs_f64() * 1e3
        );
    }
    resp
}

fn allow_get(mut r: Response<Full<Bytes>>) -> Response<Full<Bytes>> {
    r.headers_mut().insert(
        hyper::header::ALLOW,
        hyper::header::HeaderValue::from_static("GET"),
    );
    r
}

async fn proof(shared: &Shared, raw: &str) -> Response<Full<Bytes>> {
    let c = &shared.counters;
    let Some(id) = percent_decode(raw) else {
        c.bad.fetch_add(1, Ordering::Relaxed);
        return error(
            StatusCode::BAD_REQUEST,
            "the user id is not validly percent-encoded UTF-8",
        );
    };
    if por_verifier::liabilities::validate_user_id(&id).is_err() {
        c.bad.fetch_add(1, Ordering::Relaxed);
        return error(StatusCode::BAD_REQUEST, "not a valid user id");
    }
    let Ok(_slot) = shared.slots.acquire().await else {
        return error(StatusCode::SERVICE_UNAVAILABLE, "shutting down");
    };
    // Off the runtime's threads: a slow proof must not stall other connections, and the
    // semaphore above is then what bounds the proofs made at once.
    let tree = Arc::clone(&shared.tree);
    let Ok((made, took)) = tokio::task::spawn_blocking(move || {
        let t = Instant::now();
        let made = tree.any_proof(&id).map(|p| p.map(|(_, p)| p));
        (made, t.elapsed())
    })
    .await
    else {
        c.errors.fetch_add(1, Ordering::Relaxed);
        return error(StatusCode::INTERNAL_SERVER_ERROR, "internal error");
    };
    match made {
        Ok(Some(p)) => {
            c.proofs.fetch_add(1, Ordering::Relaxed);
            let mut r = reply(StatusCode::OK, Bytes::from(p.to_json()));
            if let Ok(v) = hyper::header::HeaderValue::from_str(&format!(
                "proof;dur={:.3}",
                took.as_secs_f64() * 1e3
            )) {
                r.headers_mut().insert("server-timing", v);
            }
            r
        }
        Ok(None) => {
            c.not_found.fetch_add(1, Ordering::Relaxed);
            error(StatusCode::NOT_FOUND, "no proof for this user id")
        }
        Err(e) => {
            c.errors.fetch_add(1, Ordering::Relaxed);
            // The stored tree's messages name rows and offsets, never ids.
            eprintln!("{} por-prove serve: error: {}", stamp(), e.message());
            error(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::percent_decode;

    #[test]
    fn decodes_exactly_once() {
        assert_eq!(percent_decode("a%2Fb").as_deref(), Some("a/b"));
        assert_eq!(percent_decode("a/b").as_deref(), Some("a/b"));
        assert_eq!(percent_decode("%25").as_deref(), Some("%"));
        assert_eq!(percent_decode("%2541").as_deref(), Some("%41"));
        assert_eq!(percent_decode("x%3Fy%20z").as_deref(), Some("x?y z"));
        assert_eq!(percent_decode("%C3%A9").as_deref(), Some("é"));
        assert_eq!(percent_decode("%zz"), None);
        assert_eq!(percent_decode("abc%4"), None);
        assert_eq!(percent_decode("%FF"), None);
    }
}
